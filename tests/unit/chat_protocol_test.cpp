// The chat example's line protocol (examples/chat/chat_protocol.hpp), without sockets: line
// splitting and its bound, cleaning, command parsing, name rules.
#include "chat_protocol.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using chat::Input;
using chat::InputLine;
using chat::LineSplitter;

namespace {

std::vector<InputLine> feed(LineSplitter& s, std::string_view bytes) {
  std::vector<InputLine> out;
  s.feed(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), out);
  return out;
}

InputLine line(std::string text) { return InputLine{InputLine::Kind::line, std::move(text)}; }
const InputLine kOverlong{InputLine::Kind::overlong, {}};

}  // namespace

TEST_CASE("chat protocol: lines are split on '\\n', across reads, the rest kept for later") {
  LineSplitter s(16);
  CHECK(feed(s, "hel").empty());
  CHECK(s.buffered() == 3);
  CHECK(feed(s, "lo\nwor") == std::vector<InputLine>{line("hello")});
  CHECK(feed(s, "ld\r\n\nx") == std::vector<InputLine>{line("world\r"), line("")});
  CHECK(s.finish() == line("x"));  // a final unterminated line counts
  CHECK_FALSE(s.finish());
}

TEST_CASE("chat protocol: an overlong line is reported once and skipped, never buffered") {
  LineSplitter s(8);
  CHECK(feed(s, "12345678\n") == std::vector<InputLine>{line("12345678")});  // exactly the limit
  CHECK(feed(s, "123456789") == std::vector<InputLine>{kOverlong});          // one past it
  CHECK(s.buffered() == 0);
  // The rest of that line, however long, is dropped without being stored.
  CHECK(feed(s, std::string(100'000, 'z')).empty());
  CHECK(s.buffered() == 0);
  CHECK_FALSE(s.finish());  // an unterminated overlong line is not delivered at the end
  CHECK(feed(s, "zz\nok\n") == std::vector<InputLine>{line("ok")});
  CHECK(feed(s, std::string(20, 'a') + "\nb\n") == std::vector<InputLine>{kOverlong, line("b")});
}

TEST_CASE("chat protocol: cleaning trims, and neutralises control characters") {
  CHECK(chat::clean_line("  hello  \r") == "hello");
  CHECK(chat::clean_line("a\tb") == "a b");
  CHECK(chat::clean_line("red \x1b[31malert\x07") == "red ?[31malert?");
  CHECK(chat::clean_line("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 is kept
  CHECK(chat::clean_line(" \t\r ").empty());
}

TEST_CASE("chat protocol: commands and text") {
  CHECK_FALSE(chat::parse_input(""));
  CHECK(chat::parse_input("hi all") == Input{Input::Kind::say, "hi all"});
  CHECK(chat::parse_input("/nick  bob ") == Input{Input::Kind::nick, "bob"});
  CHECK(chat::parse_input("/nick") == Input{Input::Kind::nick, ""});
  CHECK(chat::parse_input("/nick two words") == Input{Input::Kind::nick, "two words"});
  CHECK(chat::parse_input("/who") == Input{Input::Kind::who, ""});
  CHECK(chat::parse_input("/quit now") == Input{Input::Kind::quit, ""});
  CHECK(chat::parse_input("/help") == Input{Input::Kind::help, ""});
  CHECK(chat::parse_input("/dance wildly") == Input{Input::Kind::unknown, "/dance"});
  CHECK(chat::parse_input("/nickname x") == Input{Input::Kind::unknown, "/nickname"});
}

TEST_CASE("chat protocol: names") {
  CHECK_FALSE(chat::name_problem("alice", 24));
  CHECK_FALSE(chat::name_problem("Bob_the-2nd.", 24));
  CHECK_FALSE(chat::name_problem("user", 24));
  CHECK_FALSE(chat::name_problem("userX", 24));
  CHECK(chat::name_problem("", 24) == "usage: /nick NAME");
  CHECK(chat::name_problem("two words", 24));
  CHECK(chat::name_problem("[admin]", 24));
  CHECK(chat::name_problem(std::string(25, 'a'), 24));
  CHECK_FALSE(chat::name_problem(std::string(24, 'a'), 24));
  CHECK(chat::name_problem("user7", 24));  // reserved for the server's numbering
  CHECK(chat::name_problem("USER12", 24));
  CHECK(chat::name_key("AliCe") == "alice");
  CHECK(chat::default_name(3) == "user3");
}

TEST_CASE("chat protocol: what the server says") {
  CHECK(chat::joined_line("user2") == "* user2 joined the chat\n");
  CHECK(chat::left_line("user2") == "* user2 left the chat\n");
  CHECK(chat::said_line("user1", "hello") == "[user1]: hello\n");
  CHECK(chat::renamed_line("user1", "alice") == "* user1 is now known as alice\n");
  CHECK(chat::who_line({"alice", "user2"}, 1024) == "* online (2): alice, user2\n");
  // A large room is cut to the limit, saying how many were left out.
  std::vector<std::string> many(100, "somebody");
  const std::string who = chat::who_line(many, 200);
  CHECK(who.size() <= 200);
  CHECK(who.starts_with("* online (100): somebody, somebody"));
  CHECK(who.find(" more\n") != std::string::npos);
}
