// The composition root: parses the command line and wires connectors to the
// engine. The only place that sees both.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "engine/cli/app.h"
#include "engine/cli/command_line.h"

int main(int argc, char** argv) {
  using namespace hubsync::cli;
  CLI::App app{"hubsync: keeps HubSpot and PostgreSQL in agreement, both ways", "hubsync"};
  app.require_subcommand(1);
  app.fallthrough();  // global options after the command too: `hubsync config check --config x.yaml`
  app.set_help_all_flag("--help-all", "Show help for every command");
  GlobalOptions global;
  app.add_option("-c,--config", global.config_path, "Configuration file")
      ->capture_default_str();
  app.add_option("--log-level", global.log_level, "trace|debug|info|warn|error|off (overrides log.level)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-format", global.log_format, "text|json (overrides log.format)")
      ->check(CLI::IsMember({"text", "json"}));

  int rc = kExitOk;

  auto* config = app.add_subcommand("config", "Inspect the configuration");
  config->require_subcommand(1);
  config->add_subcommand("check", "Print the resolved configuration (secrets masked); exit 1 on any error")
      ->callback([&] { rc = cmd_config_check(global); });

  auto* migrate = app.add_subcommand(
      "migrate", "Install or upgrade hubsync's schema and capture triggers in PostgreSQL");
  bool dry_run = false;
  migrate->add_flag("--dry-run", dry_run, "Print the SQL instead of running it");
  migrate->callback([&] { rc = cmd_migrate(global, dry_run); });

  auto* run = app.add_subcommand("run", "Sync until caught up, print what was done, and exit");
  RunOptions run_options;
  bool once = false;
  run->add_flag("--once", once, "Catch up once and exit (the batch-job mode)")->required();
  run->add_option("--mapping", run_options.mapping, "Only this mapping");
  run->add_option("--direction", run_options.direction,
                  "both, or only to_hubspot (Postgres -> HubSpot) or to_postgres (HubSpot -> Postgres)")
      ->check(CLI::IsMember({"both", "to_hubspot", "to_postgres"}))
      ->capture_default_str();
  run->add_flag("--allow-deletes", run_options.allow_deletes,
                "Make every deletion, even over a mapping's max_deletes (held ones too)");
  run->callback([&] { rc = cmd_run(global, run_options); });

  auto* plan = app.add_subcommand("plan", "What run --once would do now, both ways; writes nothing anywhere");
  PlanOptions plan_options;
  plan->add_option("--mapping", plan_options.mapping, "Only this mapping");
  plan->add_option("--direction", plan_options.direction, "both, to_hubspot or to_postgres")
      ->check(CLI::IsMember({"both", "to_hubspot", "to_postgres"}))
      ->capture_default_str();
  plan->add_option("--limit", plan_options.limit, "Sample changes shown per side")->capture_default_str();
  plan->add_flag("--show-values", plan_options.show_values, "Show the values in the samples (they are record data)");
  plan->callback([&] { rc = cmd_plan(global, plan_options); });

  auto* serve = app.add_subcommand(
      "serve", "Run as a service: webhooks and Postgres notifications keep both sides in sync until SIGTERM");
  serve->callback([&] { rc = cmd_serve(global); });

  auto* validate = app.add_subcommand(
      "validate", "Check mapping files: exit 0 valid, 1 invalid, 2 could not check");
  std::vector<std::string> validate_files;
  bool offline = false;
  validate->add_option("files", validate_files, "Mapping files (default: every file in mappings.dir)");
  validate->add_flag("--offline", offline, "Skip the checks against PostgreSQL and HubSpot");
  validate->callback([&] { rc = cmd_validate(global, validate_files, offline); });

  auto* schema = app.add_subcommand("schema", "Create custom objects and properties the mappings declare");
  schema->require_subcommand(1);
  schema->add_subcommand("plan", "Show what `schema apply` would create (never deletes or retypes)")
      ->callback([&] { rc = cmd_schema(global, false); });
  schema->add_subcommand("apply", "Create missing objects, properties and associations; idempotent")
      ->callback([&] { rc = cmd_schema(global, true); });

  auto* acts = app.add_subcommand("actions", "Workflow custom actions the mappings declare (actions: blocks)");
  acts->require_subcommand(1);
  acts->add_subcommand("plan", "Show what `actions apply` would create or update in the HubSpot app")
      ->callback([&] { rc = cmd_actions(global, false); });
  acts->add_subcommand("apply", "Create or update hubsync's action definitions; idempotent, never deletes")
      ->callback([&] { rc = cmd_actions(global, true); });

  auto* auth = app.add_subcommand("auth", "HubSpot credentials");
  auth->require_subcommand(1);
  int login_timeout = 300;
  auto* login = auth->add_subcommand(
      "login", "OAuth: open the authorize URL, receive the redirect on the loopback redirect_uri, store the tokens");
  login->add_option("--timeout", login_timeout, "Seconds to wait for the redirect")->capture_default_str();
  login->callback([&] { rc = cmd_auth_login(global, login_timeout); });
  auth->add_subcommand("status", "Show portal, scopes and expiry (never the tokens); check the token works")
      ->callback([&] { rc = cmd_auth_status(global); });

  auto* dead = app.add_subcommand("dead-letters", "Records HubSpot or Postgres refused: list, retry, discard");
  dead->require_subcommand(1);
  std::string dl_mapping;
  bool dl_all = false;
  std::vector<std::int64_t> dl_ids;
  std::string dl_reason = "discarded by operator";
  auto* dl_list = dead->add_subcommand("list", "List pending dead letters (newest first)");
  dl_list->add_option("--mapping", dl_mapping, "Only this mapping");
  dl_list->add_flag("--all", dl_all, "Include discarded ones");
  dl_list->callback([&] { rc = cmd_dead_letters_list(global, dl_mapping, dl_all); });
  auto* dl_retry = dead->add_subcommand("retry", "Queue dead letters again; the next run pushes them");
  dl_retry->add_option("ids", dl_ids, "Dead letter ids");
  dl_retry->add_flag("--all", dl_all, "Every pending dead letter");
  dl_retry->callback([&] {
    if (dl_ids.empty() && !dl_all) throw CLI::ValidationError("retry", "give ids or --all");
    rc = cmd_dead_letters_retry(global, dl_ids, dl_all);
  });
  auto* dl_discard = dead->add_subcommand("discard", "Give up on dead letters (kept for audit)");
  dl_discard->add_option("ids", dl_ids, "Dead letter ids")->required();
  dl_discard->add_option("--reason", dl_reason, "Why");
  dl_discard->callback([&] { rc = cmd_dead_letters_discard(global, dl_ids, dl_reason); });

  auto* conflicts = app.add_subcommand("conflicts", "Fields both sides changed, and the rule that decided");
  conflicts->require_subcommand(1);
  std::string cf_mapping, cf_since;
  bool cf_json = false;
  auto* cf_list = conflicts->add_subcommand("list", "List decided conflicts (newest first)");
  cf_list->add_option("--mapping", cf_mapping, "Only this mapping");
  cf_list->add_option("--since", cf_since, "Only those decided within this long (90s, 30m, 24h, 7d)");
  cf_list->add_flag("--json", cf_json, "One JSON array, for scripts");
  cf_list->callback([&] { rc = cmd_conflicts_list(global, cf_mapping, cf_since, cf_json); });

  auto* deletes = app.add_subcommand("deletes", "Deletions held over a mapping's max_deletes: list, allow");
  deletes->require_subcommand(1);
  std::string del_mapping, del_direction;
  auto* del_list = deletes->add_subcommand("list", "List held deletions per mapping and direction");
  del_list->add_option("--mapping", del_mapping, "Only this mapping");
  del_list->callback([&] { rc = cmd_deletes_list(global, del_mapping); });
  auto* del_allow = deletes->add_subcommand("allow", "Let the held deletions go ahead (within the next hour)");
  del_allow->add_option("--mapping", del_mapping, "Only this mapping");
  del_allow->add_option("--direction", del_direction, "Only to_hubspot (archives) or to_postgres (row deletes)")
      ->check(CLI::IsMember({"to_hubspot", "to_postgres"}));
  del_allow->callback([&] { rc = cmd_deletes_allow(global, del_mapping, del_direction); });

  auto* resync = app.add_subcommand(
      "resync", "Look at every row (push) or object (pull) of a mapping again, for changes hubsync never saw; "
                "also beside a running serve");
  std::string rs_mapping, rs_direction = "both";
  bool rs_overwrite = false;
  resync->add_option("--mapping", rs_mapping, "Only this mapping");
  resync->add_option("--direction", rs_direction, "both (default), to_hubspot (push) or to_postgres (pull)")
      ->check(CLI::IsMember({"both", "to_hubspot", "to_postgres"}));
  resync->add_flag("--overwrite", rs_overwrite,
                   "Also send the values of one-way fields again, changed or not (HubSpot or Postgres edited "
                   "where only the other side should write)");
  resync->callback([&] { rc = cmd_resync(global, rs_mapping, rs_direction, rs_overwrite); });

  auto* status = app.add_subcommand(
      "status", "Backlog, lag, last success, dead letters, conflicts and checkpoints per mapping and direction; "
                "safe beside a running serve");
  bool status_json = false, status_offline = false;
  status->add_flag("--json", status_json, "One JSON object, for scripts (keys documented in README)");
  status->add_flag("--offline", status_offline, "Do not call HubSpot (no reachability or budget figures)");
  status->callback([&] { rc = cmd_status(global, status_json, status_offline); });

  auto* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->require_subcommand(1);
  completion->add_subcommand("bash", "bash: `source <(hubsync completion bash)`, or save it in bash-completion's directory")
      ->callback([&] { std::cout << bash_completion(app, "hubsync"); });

  if (auto bad = unknown_command_word(app, std::vector<std::string>(argv + 1, argv + argc)); !bad.empty()) {
    std::cerr << "error: " << bad << "\n";
    return kExitUnavailable;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUnavailable;
  }
  return rc;
}
