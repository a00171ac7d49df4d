#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

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

/// Starts the `hubsync` binary with `args` (stdout and stderr appended to
/// `log`); returns its pid. Throws std::runtime_error when it cannot start.
pid_t spawn_hubsync(const std::string& bin, const std::vector<std::string>& args, const std::string& log);
/// The last `n` lines of a log file (for a failure message).
std::string log_tail(const std::string& path, std::size_t n = 60);
/// Waits up to `ms` for the child: its exit code, 128 when killed by a
/// signal, -1 if it is still running.
int wait_for_exit(pid_t pid, int ms);
/// A TCP port on 127.0.0.1 that was free a moment ago (bound, read, closed).
int free_port();

}  // namespace hubsync::test
