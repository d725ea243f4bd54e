//! Subcommands other than `serve`: they work on the database directly, also while the server runs.

use crate::config::{Config, KeysCommand, UsersCommand};
use crate::db::{self, Db};
use crate::domain::clock;
use crate::domain::history::ActorKind;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::ops::api_keys::{self, ApiKeyInput};
use crate::ops::journal::Writer;

/// The command line acts with the authority of the machine's operator: an unscoped Owner.
fn operator() -> Principal {
    Principal::operator(ActorKind::Cli, "portolan command line")
}

/// `portolan users add NAME --role ROLE`: the headless way to the first Owner.
pub fn users(config: &Config, command: UsersCommand) -> Result<(), String> {
    let db = Db::open(config)?;
    match command {
        UsersCommand::Add {
            username,
            role,
            networks,
        } => {
            let username = crate::domain::account::parse_username(&username)
                .map_err(|e| format!("username: {}", e.0))?;
            let role = Role::parse(&role).map_err(|e| format!("--role: {}", e.0))?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| format!("cannot read the password: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            crate::domain::account::check_password(&password)
                .map_err(|e| format!("the password (standard input): {}", e.0))?;
            let hash = crate::domain::password::hash(&password);
            let input = crate::ops::users::UserInput {
                username,
                display_name: None,
                email: None,
                role,
                network_ids: networks,
                enabled: true,
            };
            let user = db
                .write_blocking(|tx| {
                    let who = Writer::begin(tx, operator(), None)?;
                    crate::ops::users::create(tx, &who, input, "password", Some(&hash))
                })
                .map_err(|e| match &e.field {
                    Some(f) => format!("{f}: {}", e.message),
                    None => e.message.clone(),
                })?;
            let _ = std::fs::remove_file(
                config
                    .data_dir
                    .join(crate::domain::account::SETUP_CODE_FILE),
            );
            eprintln!("made user {} ({}, {})", user.id, user.username, user.role);
        }
    }
    Ok(())
}

pub fn keys(config: &Config, command: KeysCommand) -> Result<(), String> {
    let db = Db::open(config)?;
    match command {
        KeysCommand::Create {
            name,
            permissions,
            networks,
            expires_at,
        } => {
            let expires_at = match expires_at {
                Some(t) => Some(clock::format(clock::parse_rfc3339(&t).ok_or_else(
                    || format!("--expires-at: \"{t}\" is not an RFC 3339 time"),
                )?)),
                None => None,
            };
            let input = ApiKeyInput {
                name: Name::parse(&name, 100).map_err(|e| format!("--name: {}", e.0))?,
                permissions: Role::parse(&permissions)
                    .map_err(|e| format!("--permissions: {}", e.0))?,
                network_ids: networks,
                expires_at,
                is_enabled: true,
            };
            let created = db
                .write_blocking(|tx| {
                    api_keys::create(tx, &Writer::begin(tx, operator(), None)?, input)
                })
                .map_err(|e| e.message.clone())?;
            println!("{}", created.key);
            eprintln!(
                "created key {} ({}, {}); the plaintext above is shown only once",
                created.api_key.id, created.api_key.name, created.api_key.permissions
            );
        }
        KeysCommand::List => {
            let keys = db
                .read_blocking(db::api_keys::list_all)
                .map_err(|e| e.message.clone())?;
            println!(
                "{:<36}  {:<8}  {:<7}  {:<27}  NAME",
                "ID", "ROLE", "ENABLED", "EXPIRES"
            );
            for k in keys {
                println!(
                    "{:<36}  {:<8}  {:<7}  {:<27}  {}",
                    k.id,
                    k.permissions,
                    k.is_enabled,
                    k.expires_at.as_deref().unwrap_or("-"),
                    k.name
                );
            }
        }
        KeysCommand::Revoke { id } => {
            db.write_blocking(|tx| {
                api_keys::disable(tx, &Writer::begin(tx, operator(), None)?, &id)
            })
            .map_err(|e| e.message.clone())?;
            eprintln!("key {id} disabled");
        }
    }
    Ok(())
}

pub fn migrate(config: &Config) -> Result<(), String> {
    db::make_private_dir(&config.data_dir)?;
    db::make_private_file(&config.db_path())?;
    let applied = db::migrate(&config.db_path())?;
    eprintln!(
        "applied {applied} migration(s) to {}",
        config.db_path().display()
    );
    Ok(())
}

pub fn backup(config: &Config, dest: &std::path::Path) -> Result<(), String> {
    let source = config.db_path();
    if !source.exists() {
        return Err(format!("no database at {}", source.display()));
    }
    if dest.exists() {
        return Err(format!(
            "{} already exists; choose a new file",
            dest.display()
        ));
    }
    db::backup(&source, dest)?;
    eprintln!(
        "backed up {} to {} (integrity check: ok)",
        source.display(),
        dest.display()
    );
    Ok(())
}

pub fn export(
    config: &Config,
    output: Option<&std::path::Path>,
    with_history: bool,
) -> Result<(), String> {
    let db = Db::open(config)?;
    let now = clock::now();
    let write = |out: &mut dyn std::io::Write| {
        // One read transaction: the document is one snapshot, even while the server writes.
        db.read_blocking(|c| {
            c.execute_batch("BEGIN")?;
            let written = db::full_export::write_document(c, with_history, &now, out);
            c.execute_batch("COMMIT")?;
            written
        })
        .map_err(|e| e.message.clone())
    };
    match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            write(&mut std::io::BufWriter::new(file))?;
            eprintln!("exported to {}", path.display());
        }
        None => write(&mut std::io::BufWriter::new(std::io::stdout().lock()))?,
    }
    Ok(())
}

pub fn import(config: &Config, file: &std::path::Path, dry_run: bool) -> Result<(), String> {
    let reader =
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let db = Db::open(config)?;
    let report = db
        .write_blocking(|tx| {
            let by = crate::ops::full_import::Importer {
                who: crate::domain::principal::Principal::operator(
                    crate::domain::history::ActorKind::Cli,
                    "portolan import",
                ),
                request_id: None,
                receivers: &config.webhook_receivers,
            };
            crate::ops::full_import::import(tx, by, reader, dry_run)
        })
        .map_err(|e| match &e.field {
            Some(field) => format!("{field}: {}", e.message),
            None => e.message.clone(),
        })?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
    );
    Ok(())
}
