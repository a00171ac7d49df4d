#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hubsync::config {

/// What hubsync can tell about a libpq connection string without connecting.
struct DsnInspection {
  bool valid = false;
  /// Why libpq would refuse it. Names the kind of mistake and a character
  /// position, never any text of the DSN (it might be the password).
  std::string problem;
  /// The DSN with every password (password, sslpassword, a URI's userinfo
  /// password) replaced by ****; empty when the DSN is not valid, because
  /// then nothing tells which part is the password.
  std::string masked;
  /// Every password it carries, as written and decoded, for scrubbing text
  /// that might quote them (libpq's own errors do).
  std::vector<std::string> passwords;
};

/// Reads `dsn` the way libpq 15 does: a URI when it starts with
/// postgresql:// or postgres://, else keyword=value pairs (spaces allowed
/// around '=', values single-quoted with \' and \\ escapes, or bare with
/// backslash escapes). A keyword-form `dbname` holding a connection string
/// of its own is masked too. A URI's userinfo is taken up to its last '@',
/// so a password with an unencoded '@' or '/' is still masked whole. Never
/// throws.
DsnInspection inspect_dsn(std::string_view dsn);

/// The DSN as safe to print: inspect_dsn(dsn).masked, or a placeholder that
/// shows nothing of it when it is not valid.
std::string mask_dsn(const std::string& dsn);

}  // namespace hubsync::config
