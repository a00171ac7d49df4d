#pragma once

#include <string>

#include "engine/model/result.h"

namespace hubsync::state::sqlite {

/// An exclusive advisory lock (flock) on `<state file>.lock`, holding the
/// owner's pid as text. flock, not fcntl: fcntl locks belong to the process
/// and vanish when any descriptor of the file is closed, so a second open in
/// the same process would silently drop the first one's lock. The kernel
/// releases the lock when the holder dies, even by SIGKILL.
class PidLock {
 public:
  /// Takes the lock without waiting. Error kind `fatal` naming the holder's
  /// pid when another open file description (another process, or another
  /// store in this process) holds it.
  static model::Result<PidLock> acquire(const std::string& lock_path);

  PidLock(PidLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  PidLock& operator=(PidLock&&) = delete;
  PidLock(const PidLock&) = delete;
  PidLock& operator=(const PidLock&) = delete;
  ~PidLock();

  const std::string& path() const { return path_; }

 private:
  PidLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

/// Creates `path` with mode 0600 if it does not exist, and narrows an
/// existing file to 0600 if group or others could read it. A file group or
/// others could WRITE is refused (`fatal` naming the mode): someone else may
/// have changed it (its OAuth tokens, links, base values), so an operator
/// must look at it and chmod it before hubsync trusts it again.
model::Status ensure_private_file(const std::string& path);

}  // namespace hubsync::state::sqlite
