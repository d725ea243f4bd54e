use std::process::ExitCode;

use clap::Parser;
use portolan::config::{Cli, Command, Config};
use portolan::startup::Application;

fn main() -> ExitCode {
    // Every file this process creates (database, backups, exports, the Owner key) is its
    // user's alone: they hold the whole inventory.
    #[cfg(unix)]
    // SAFETY: umask(2) only sets the process's file mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    if let Some(Command::Agent(args)) = cli.command {
        // The agent reads no server settings and opens no database.
        return match portolan::agent::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("portolan agent: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::from_settings(&cli.settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("portolan: {}", e.0);
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Keys(cmd) => portolan::cli::keys(&config, cmd),
        Command::Users(cmd) => portolan::cli::users(&config, cmd),
        Command::Migrate => portolan::cli::migrate(&config),
        Command::Backup { path } => portolan::cli::backup(&config, &path),
        Command::Export {
            output,
            with_history,
        } => portolan::cli::export(&config, output.as_deref(), with_history),
        Command::Import { file, dry_run } => portolan::cli::import(&config, &file, dry_run),
        Command::Agent(_) => unreachable!("handled before the server's settings"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portolan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config)?;
        app.run().await.map_err(|e| e.to_string())
    })
}
