// examples/chat/chat_protocol.hpp — the line protocol of the chat server, without any I/O.
//
// Everything a client sends is lines of text (what `nc` produces). This file turns bytes into
// lines with a hard bound on their length, cleans each line, parses commands, validates
// names, and holds the texts the server sends back, so the actors (chat_server.cpp) only
// route lines and the rules can be tested without sockets.
//
// Threading: plain values and pure functions; a LineSplitter belongs to one session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat {

/// What the bytes of one connection turned into.
struct InputLine {
  enum class Kind : unsigned char {
    line,      ///< a complete line, without its '\n' (possibly with a trailing '\r')
    overlong,  ///< a line went past the limit: it is dropped up to its '\n'
  };
  Kind kind = Kind::line;
  std::string text;  ///< empty for `overlong`
  friend bool operator==(const InputLine&, const InputLine&) = default;
};

/// Splits a byte stream into lines of at most `max_line_bytes` bytes (the '\n' excluded).
///
/// Memory is bounded by `max_line_bytes`: a longer line is reported once as `overlong`, and
/// its remaining bytes are skipped until the next '\n' instead of being buffered.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes);

  /// Consumes `bytes`; appends every line completed by them to `out`.
  void feed(std::span<const std::byte> bytes, std::vector<InputLine>& out);
  /// The connection ended: a final unterminated line, if any (the original delivered it too).
  std::optional<InputLine> finish();

  /// Bytes currently held for an incomplete line (never above `max_line_bytes`).
  std::size_t buffered() const noexcept { return partial_.size(); }

 private:
  std::size_t max_line_bytes_;
  std::string partial_;
  bool skipping_ = false;  ///< inside an overlong line, waiting for its '\n'
};

/// Trims surrounding whitespace (a trailing '\r' from `nc -C` or telnet included), turns tabs
/// into spaces and every other control character into '?', so that one user cannot send
/// terminal escape sequences to everybody else's screen. Bytes >= 0x80 (UTF-8) are kept.
std::string clean_line(std::string_view raw);

/// A cleaned, non-empty line, classified.
struct Input {
  enum class Kind : unsigned char {
    say,      ///< ordinary text: `arg` is the text
    nick,     ///< "/nick NAME": `arg` is NAME (maybe empty or invalid: the room decides)
    who,      ///< "/who"
    quit,     ///< "/quit"
    help,     ///< "/help"
    unknown,  ///< "/something else": `arg` is the command word, with its '/'
  };
  Kind kind = Kind::say;
  std::string arg;
  friend bool operator==(const Input&, const Input&) = default;
};

/// Classifies a cleaned line; nullopt for an empty one (ignored, as in the original).
std::optional<Input> parse_input(std::string_view cleaned);

/// Why a requested name is refused; nullopt when it is acceptable (uniqueness is the room's
/// business). A name is 1..`max_name_bytes` letters, digits, '-', '_' or '.', and not of the
/// form `user<digits>`: those are handed out by the server, one per connection, never reused.
std::optional<std::string> name_problem(std::string_view name, std::size_t max_name_bytes);

/// The key under which names are unique: ASCII lower case, so "Alice" and "alice" cannot
/// both be online (one could pose as the other).
std::string name_key(std::string_view name);

/// The name the server gives the `number`-th connection: "user1", "user2", ...
std::string default_name(std::uint64_t number);

// --- what the server says (each a complete line, '\n' included) ----------------------------

std::string greeting_line(std::string_view name, std::size_t online);
std::string joined_line(std::string_view name);
std::string left_line(std::string_view name);
std::string said_line(std::string_view name, std::string_view text);
std::string renamed_line(std::string_view old_name, std::string_view new_name);
/// "* online (N): a, b, c" in the given order, cut with "and K more" where the line would
/// pass `max_bytes` (so a large room cannot make one answer unboundedly long).
std::string who_line(const std::vector<std::string>& names, std::size_t max_bytes);
std::string notice_line(std::string_view text);  ///< "* text\n"
std::string help_line();
std::string unknown_command_line(std::string_view command);
std::string line_too_long_line(std::size_t max_line_bytes);
/// Sent to a client whose outgoing queue overflowed, just before it is disconnected.
std::string too_slow_line();
/// Sent to a connection refused because `max_clients` are online.
std::string server_full_line();
/// Sent in answer to /quit.
std::string bye_line();

}  // namespace chat
