#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hubsync::cli {

/// Checks the command words of `args` (argv without the program name)
/// against `app`'s command tree before CLI11 parses them, so a misspelt
/// command is an error even when `--help` follows it (CLI11 would print the
/// parent's help and exit 0). Options are skipped, with the value of an
/// option that takes one. Returns the message to print ("unknown command
/// 'stauts' (did you mean 'status'?)"), or empty when every command word is
/// known. Words after a command without subcommands are its arguments.
std::string unknown_command_word(CLI::App& app, const std::vector<std::string>& args);

/// A bash completion script for `app`'s command tree: commands, their
/// options, the choices of --log-level/--log-format/--direction, and file
/// names after --config. `program` is the name completion is registered for.
std::string bash_completion(CLI::App& app, const std::string& program);

}  // namespace hubsync::cli
