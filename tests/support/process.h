#pragma once

#include <string>

namespace hubsync::test {

/// What a command printed (stdout and stderr together) and its exit code
/// (-1 when it did not exit normally).
struct CommandOutput {
  int code = -1;
  std::string out;
};

/// Runs `command` through /bin/sh and waits for it. Never throws on the
/// command's failure: the caller asserts on the code and the output.
CommandOutput run_command(const std::string& command);

/// `s` as one single-quoted shell word.
std::string shell_quote(const std::string& s);

}  // namespace hubsync::test
