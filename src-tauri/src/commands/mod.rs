//! Tauri commands, one topic per file. Each is a thin call into slipway-app; errors are
//! `UserError`s, which the UI shows as what / why / next.

mod board;
mod config;
mod connect;
mod deploy;
mod events;
mod export;
mod insights;
mod integrations;
mod launch;
mod pipeline;
mod provision;
mod sandbox;
mod settings;
pub(crate) mod streams;

/// Every command the UI can invoke. Generic over the runtime: the desktop window registers it on
/// Wry, the test-only IPC bridge (`crate::bridge`) on Tauri's mock runtime, so both dispatch
/// through the same handlers, argument parsing and serialization.
/// Which of them a window may really call is decided by Tauri's runtime authority from
/// `capabilities/` (build.rs declares this list as the app's manifest, so an unlisted command is
/// refused).
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        connect::doctor,
        connect::aws_profiles,
        connect::connect_aws,
        connect::aws_regions,
        connect::set_aws_region,
        connect::connect_github,
        connect::github_cli_token_available,
        connect::connect_registry,
        connect::docker_config_entries,
        connect::check_connection,
        connect::disconnect,
        connect::connections,
        sandbox::sandbox_start,
        sandbox::sandbox_stop,
        sandbox::sandbox_status,
        launch::launch_state,
        launch::launch_add_project,
        launch::launch_plan,
        launch::launch_apply,
        launch::launch_run,
        launch::launch_deploy,
        launch::sandbox_mappings,
        settings::get_settings,
        settings::save_settings,
        settings::secrets_status,
        provision::get_blueprint,
        provision::save_blueprint,
        provision::blueprint_resources,
        provision::plan,
        provision::apply,
        provision::destroy,
        provision::refresh,
        provision::cancel_provisioning,
        provision::project_resources,
        pipeline::detect_project,
        pipeline::save_project,
        pipeline::projects,
        pipeline::start_run,
        pipeline::rerun,
        pipeline::cancel_run,
        pipeline::runs,
        pipeline::get_run,
        pipeline::log_steps,
        pipeline::follow_log,
        deploy::environments,
        deploy::save_environment,
        deploy::delete_environment,
        deploy::kube_contexts,
        deploy::deploy,
        deploy::redeploy,
        deploy::rollback,
        deploy::deploy_status,
        deploy::revisions,
        deploy::teardown,
        deploy::follow_deploy_logs,
        config::env_config,
        config::env_config_set,
        config::env_config_unset,
        config::move_committed_secrets,
        streams::stop_stream,
        board::board_projects,
        board::get_board,
        board::board_history,
        board::create_card,
        board::update_card,
        board::move_card,
        board::delete_card,
        board::create_epic,
        board::update_epic,
        board::delete_epic,
        board::create_sprint,
        board::update_sprint,
        board::start_sprint,
        board::close_sprint,
        board::delete_sprint,
        board::burndown,
        board::velocity,
        board::set_board_columns,
        board::set_board_automation,
        board::export_board,
        board::import_board,
        integrations::github_repos,
        integrations::github_branches,
        integrations::github_commits,
        integrations::github_workflow_runs,
        integrations::github_workflow_jobs,
        integrations::github_job_log,
        integrations::github_webhook_secret,
        integrations::github_watch_start,
        integrations::github_watch_stop,
        integrations::github_watches,
        integrations::jenkins_connection,
        integrations::disconnect_jenkins,
        integrations::connect_jenkins,
        integrations::jenkins_jobs,
        integrations::jenkins_builds,
        integrations::jenkins_stages,
        integrations::jenkins_build,
        integrations::follow_jenkins_log,
        export::export,
        insights::insights,
        insights::delivery_line,
        insights::audit_trail,
        insights::export_audit,
        events::subscribe_events,
        events::first_paint,
        events::launch_interactive,
    ]
}
