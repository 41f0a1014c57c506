//! Tauri commands, one topic per file. Each is a thin call into slipway-app; errors are
//! `UserError`s, which the UI shows as what / why / next.

mod connect;
mod deploy;
mod events;
mod pipeline;
mod provision;
mod sandbox;
mod settings;

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
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
        settings::get_settings,
        settings::save_settings,
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
        events::subscribe_events,
        events::first_paint,
    ]
}
