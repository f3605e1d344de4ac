//! The admin commands of the `fluxlab` binary: `user add|list|remove|set` and
//! `token create|list|revoke`, run against `--database` like `serve` (also while it runs).

use clap::{Args, Subcommand};

use crate::api::users::{check_user_name, issue_token};
use crate::store::{QuotaChange, Store};

#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// Database URL (as for `serve`).
    #[arg(long, env = "FLUXLAB_DATABASE", default_value = "sqlite://fluxlab.db")]
    pub database: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add {
        name: String,
        /// May see and manage everyone's jobs, users and tokens.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List users with their quotas.
    List {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a user and their tokens (their jobs and datasets stay, visible to admins).
    Remove {
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Set a user's quotas (`default` puts one back to the server's default).
    Set {
        name: String,
        #[arg(long)]
        max_running: Option<String>,
        #[arg(long)]
        max_queued: Option<String>,
        /// Bytes, or with a unit: 500MiB, 1GiB, 2GB.
        #[arg(long)]
        max_dataset_bytes: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it (once: only its digest is stored).
    Create {
        #[arg(long)]
        user: String,
        /// A label to recognise it by.
        #[arg(long)]
        name: Option<String>,
        /// Lifetime, e.g. 90d, 12h (default: no expiry).
        #[arg(long)]
        expires: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List tokens (never the secrets).
    List {
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Revoke a token by its id (`tok_…`).
    Revoke {
        id: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

/// Parses `2GiB`, `500MB`, `1024` into bytes.
pub fn parse_bytes(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 1GiB or 500MB"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        other => return Err(format!("unknown unit `{other}` in `{text}`")),
    };
    Ok((value * factor).round() as i64)
}

fn quota(
    text: Option<String>,
    parse: impl Fn(&str) -> Result<i64, String>,
) -> Result<Option<Option<i64>>, String> {
    match text.as_deref() {
        None => Ok(None),
        Some("default") => Ok(Some(None)),
        Some(t) => parse(t).map(|v| Some(Some(v))),
    }
}

fn count(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| format!("`{text}` is not a whole number ≥ 0"))
}

fn ms_time(ms: Option<i64>) -> String {
    ms.map_or("-".into(), crate::api::views::rfc3339)
}

/// Runs a `user` command; the text it prints.
pub async fn user(command: UserCommand) -> anyhow::Result<String> {
    match command {
        UserCommand::Add { name, admin, db } => {
            check_user_name(&name).map_err(|e| anyhow::anyhow!("user name: {}", e.message))?;
            let store = Store::connect(&db.database).await?;
            anyhow::ensure!(
                store.add_user(&name, admin).await?,
                "user `{name}` exists already"
            );
            store.audit("cli", "user.add", Some(&name), None).await?;
            Ok(format!(
                "created {}user `{name}`; give them a token with: fluxlab token create --user {name}",
                if admin { "admin " } else { "" }
            ))
        }
        UserCommand::List { db } => {
            let store = Store::connect(&db.database).await?;
            let mut out = format!(
                "{:<24} {:<6} {:>12} {:>11} {:>18}\n",
                "NAME", "ADMIN", "MAX_RUNNING", "MAX_QUEUED", "MAX_DATASET_BYTES"
            );
            let show = |v: Option<i64>| v.map_or("default".to_string(), |v| v.to_string());
            for u in store.list_users().await? {
                out.push_str(&format!(
                    "{:<24} {:<6} {:>12} {:>11} {:>18}\n",
                    u.name,
                    if u.admin != 0 { "yes" } else { "no" },
                    show(u.max_running),
                    show(u.max_queued),
                    show(u.max_dataset_bytes)
                ));
            }
            Ok(out.trim_end().to_string())
        }
        UserCommand::Remove { name, db } => {
            let store = Store::connect(&db.database).await?;
            anyhow::ensure!(store.remove_user(&name).await?, "no user `{name}`");
            store.audit("cli", "user.remove", Some(&name), None).await?;
            Ok(format!("removed user `{name}` and their tokens"))
        }
        UserCommand::Set {
            name,
            max_running,
            max_queued,
            max_dataset_bytes,
            db,
        } => {
            let change = QuotaChange {
                max_running: quota(max_running, count).map_err(anyhow::Error::msg)?,
                max_queued: quota(max_queued, count).map_err(anyhow::Error::msg)?,
                max_dataset_bytes: quota(max_dataset_bytes, parse_bytes)
                    .map_err(anyhow::Error::msg)?,
            };
            let store = Store::connect(&db.database).await?;
            anyhow::ensure!(store.set_quotas(&name, &change).await?, "no user `{name}`");
            store.audit("cli", "user.set", Some(&name), None).await?;
            Ok(format!("updated the quotas of `{name}`"))
        }
    }
}

/// Runs a `token` command; the text it prints.
pub async fn token(command: TokenCommand) -> anyhow::Result<String> {
    match command {
        TokenCommand::Create {
            user,
            name,
            expires,
            db,
        } => {
            let expires_at = match expires {
                None => None,
                Some(text) => {
                    let d = humantime::parse_duration(&text)
                        .map_err(|e| anyhow::anyhow!("--expires `{text}`: {e} (e.g. 90d, 12h)"))?;
                    Some(crate::store::now_ms() + d.as_millis() as i64)
                }
            };
            let store = Store::connect(&db.database).await?;
            anyhow::ensure!(store.get_user(&user).await?.is_some(), "no user `{user}`");
            let (secret, row) = issue_token(&store, &user, name.as_deref(), expires_at).await?;
            store
                .audit("cli", "token.create", Some(&row.id), None)
                .await?;
            Ok(format!(
                "{secret}\n(token {} for `{user}`, expires {}; shown only now: store it safely)",
                row.id,
                ms_time(row.expires_at)
            ))
        }
        TokenCommand::List { user, db } => {
            let store = Store::connect(&db.database).await?;
            let mut out = format!(
                "{:<20} {:<16} {:<20} {:<25} {:<25} {}\n",
                "ID", "USER", "NAME", "EXPIRES", "LAST USED", "STATE"
            );
            for t in store.list_tokens(user.as_deref()).await? {
                out.push_str(&format!(
                    "{:<20} {:<16} {:<20} {:<25} {:<25} {}\n",
                    t.id,
                    t.user_name,
                    t.label.as_deref().unwrap_or("-"),
                    ms_time(t.expires_at),
                    ms_time(t.last_used_at),
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    }
                ));
            }
            Ok(out.trim_end().to_string())
        }
        TokenCommand::Revoke { id, db } => {
            let store = Store::connect(&db.database).await?;
            anyhow::ensure!(store.revoke_token(&id).await?, "no live token `{id}`");
            store.audit("cli", "token.revoke", Some(&id), None).await?;
            Ok(format!("revoked token {id}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("500MB"), Ok(500_000_000));
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert!(parse_bytes("lots").is_err());
    }
}
