// Every hubsync command README shows exists as shown: each command path
// answers --help, and each option README gives it is in that help (global
// options in the main help). README cannot drift from the binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace {

struct Shown {
  std::string text;                 // as README has it
  std::vector<std::string> path;    // e.g. {"dead-letters", "retry"}
  std::vector<std::string> options; // e.g. {"--all"}
};

std::string readme() {
  std::ifstream in(HUBSYNC_README);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// "hubsync schema plan|apply [--x]" -> one Shown per alternative.
std::vector<Shown> parse(const std::string& command) {
  std::string text = command.substr(0, command.find(" #"));
  std::istringstream words(text.substr(std::string("hubsync").size()));
  std::vector<std::vector<std::string>> paths = {{}};
  std::vector<std::string> options;
  static const std::regex word("^[a-z][a-z-]*(\\|[a-z][a-z-]*)*$"), option("--?[a-z][a-z-]*");
  bool in_path = true;
  for (std::string w; words >> w;) {
    if (in_path && std::regex_match(w, word)) {
      std::vector<std::vector<std::string>> next;
      std::istringstream alts(w);
      for (std::string a; std::getline(alts, a, '|');)
        for (auto p : paths) {
          p.push_back(a);
          next.push_back(p);
        }
      paths = next;
      continue;
    }
    in_path = false;
    for (auto it = std::sregex_iterator(w.begin(), w.end(), option); it != std::sregex_iterator(); ++it)
      if (it->str().rfind("--", 0) == 0) options.push_back(it->str());
  }
  std::vector<Shown> out;
  for (const auto& p : paths) out.push_back({command, p, options});
  return out;
}

std::vector<Shown> commands_in(const std::string& md) {
  std::vector<Shown> out;
  std::istringstream lines(md);
  bool in_sh = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("```", 0) == 0) {
      in_sh = !in_sh && line.find("sh") != std::string::npos;
      continue;
    }
    if (in_sh && line.rfind("hubsync ", 0) == 0)
      for (auto& s : parse(line)) out.push_back(std::move(s));
  }
  static const std::regex inline_code("`(hubsync [^`]+)`");
  for (auto it = std::sregex_iterator(md.begin(), md.end(), inline_code); it != std::sregex_iterator(); ++it)
    for (auto& s : parse((*it)[1].str())) out.push_back(std::move(s));
  return out;
}

TEST(Readme, EveryCommandAndOptionItShowsIsOneTheBinaryHas) {
  const auto shown = commands_in(readme());
  ASSERT_GE(shown.size(), 20u) << "README's commands were not found";
  const auto main_help = hubsync::test::run_command("'" HUBSYNC_BIN "' --help-all");
  ASSERT_EQ(main_help.code, 0) << main_help.out;
  std::set<std::string> checked;
  for (const auto& s : shown) {
    std::string path;
    for (const auto& p : s.path) path += " " + p;
    auto help = hubsync::test::run_command("'" HUBSYNC_BIN "'" + path + " --help");
    EXPECT_EQ(help.code, 0) << "README shows `" << s.text << "`, but `hubsync" << path << " --help` fails:\n" << help.out;
    for (const auto& o : s.options)
      EXPECT_TRUE(help.out.find(o) != std::string::npos || main_help.out.find(o) != std::string::npos)
          << "README shows `" << s.text << "`, but hubsync" << path << " has no option " << o;
    checked.insert(path);
  }
  // The commands people run most are among them.
  for (const char* p : {" run", " serve", " status", " plan", " migrate", " validate", " config check",
                        " dead-letters retry", " conflicts list", " auth login", " completion bash"})
    EXPECT_TRUE(checked.count(p)) << "README shows no `hubsync" << p << "`";
}

}  // namespace
