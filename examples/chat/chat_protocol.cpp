// examples/chat/chat_protocol.cpp — see chat_protocol.hpp.
#include "chat_protocol.hpp"

#include <cineyma/assert.hpp>

#include <algorithm>

namespace chat {

LineSplitter::LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {
  CINEYMA_ASSERT(max_line_bytes > 0);
  partial_.reserve(std::min<std::size_t>(max_line_bytes, 256));
}

void LineSplitter::feed(std::span<const std::byte> bytes, std::vector<InputLine>& out) {
  for (const std::byte b : bytes) {
    const char c = static_cast<char>(b);
    if (skipping_) {
      if (c == '\n') skipping_ = false;
      continue;
    }
    if (c == '\n') {
      out.push_back(InputLine{InputLine::Kind::line, std::move(partial_)});
      partial_.clear();
      continue;
    }
    if (partial_.size() == max_line_bytes_) {
      // Reported at once rather than at its '\n': the sender learns it went too far even if
      // the line never ends, and nothing past the limit is ever stored.
      out.push_back(InputLine{InputLine::Kind::overlong, {}});
      partial_.clear();
      skipping_ = true;
      continue;
    }
    partial_.push_back(c);
  }
  CINEYMA_ASSERT(partial_.size() <= max_line_bytes_);
}

std::optional<InputLine> LineSplitter::finish() {
  if (skipping_ || partial_.empty()) return std::nullopt;
  InputLine last{InputLine::Kind::line, std::move(partial_)};
  partial_.clear();
  return last;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

}  // namespace

std::string clean_line(std::string_view raw) {
  const std::string_view t = trim(raw);
  std::string out;
  out.reserve(t.size());
  for (const char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\t') {
      out.push_back(' ');
    } else if (u < 0x20 || u == 0x7f) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<Input> parse_input(std::string_view cleaned) {
  if (cleaned.empty()) return std::nullopt;
  if (cleaned.front() != '/') return Input{Input::Kind::say, std::string(cleaned)};
  const std::size_t space = cleaned.find(' ');
  const std::string_view command = cleaned.substr(0, space);
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view{} : trim(cleaned.substr(space + 1));
  if (command == "/nick") return Input{Input::Kind::nick, std::string(rest)};
  if (command == "/who") return Input{Input::Kind::who, {}};
  if (command == "/quit") return Input{Input::Kind::quit, {}};
  if (command == "/help") return Input{Input::Kind::help, {}};
  return Input{Input::Kind::unknown, std::string(command)};
}

std::optional<std::string> name_problem(std::string_view name, std::size_t max_name_bytes) {
  if (name.empty()) return "usage: /nick NAME";
  if (name.size() > max_name_bytes || !std::all_of(name.begin(), name.end(), is_name_char)) {
    return "a name is 1 to " + std::to_string(max_name_bytes) +
           " letters, digits, '-', '_' or '.'";
  }
  const std::string key = name_key(name);
  if (key.size() > 4 && key.starts_with("user") &&
      std::all_of(key.begin() + 4, key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "names like " + std::string(name) + " are given out by the server; pick another";
  }
  return std::nullopt;
}

std::string name_key(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

std::string default_name(std::uint64_t number) { return "user" + std::to_string(number); }

std::string notice_line(std::string_view text) {
  std::string s;
  s.reserve(text.size() + 3);
  s.append("* ").append(text).push_back('\n');
  return s;
}

std::string greeting_line(std::string_view name, std::size_t online) {
  return notice_line("welcome to the cineyma chat, you are " + std::string(name) + " (" +
                     std::to_string(online) + " online); /help lists the commands");
}

std::string joined_line(std::string_view name) {
  return notice_line(std::string(name) + " joined the chat");
}

std::string left_line(std::string_view name) {
  return notice_line(std::string(name) + " left the chat");
}

std::string said_line(std::string_view name, std::string_view text) {
  std::string s;
  s.reserve(name.size() + text.size() + 5);
  s.append("[").append(name).append("]: ").append(text).push_back('\n');
  return s;
}

std::string renamed_line(std::string_view old_name, std::string_view new_name) {
  return notice_line(std::string(old_name) + " is now known as " + std::string(new_name));
}

std::string who_line(const std::vector<std::string>& names, std::size_t max_bytes) {
  std::string s = "online (" + std::to_string(names.size()) + "):";
  for (std::size_t i = 0; i < names.size(); ++i) {
    // Room for the separator, the name, and a closing "and K more" if it comes to that.
    const std::size_t tail = 32;
    if (s.size() + 2 + names[i].size() + tail > max_bytes) {
      s.append(" and ").append(std::to_string(names.size() - i)).append(" more");
      break;
    }
    s.append(i == 0 ? " " : ", ").append(names[i]);
  }
  return notice_line(s);
}

std::string help_line() {
  return notice_line(
      "commands: /nick NAME (change your name), /who (who is online), /quit (leave); "
      "any other line is said to everyone");
}

std::string unknown_command_line(std::string_view command) {
  return notice_line("unknown command " + std::string(command) + "; /help lists the commands");
}

std::string line_too_long_line(std::size_t max_line_bytes) {
  return notice_line("line too long (the limit is " + std::to_string(max_line_bytes) +
                     " bytes); it was dropped");
}

std::string too_slow_line() {
  return notice_line("you are not reading fast enough to keep up; disconnecting");
}

std::string server_full_line() { return notice_line("the server is full; try again later"); }

std::string bye_line() { return notice_line("bye"); }

}  // namespace chat
