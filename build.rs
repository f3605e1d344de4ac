//! Records the git commit the binary is built from (`FLUXLAB_GIT_COMMIT`, used in every
//! result's provenance): the `FLUXLAB_GIT_COMMIT` environment variable when set (the Docker
//! build passes it as a build argument, having no `.git`), else `git rev-parse HEAD`, else
//! `unknown`. Uncommitted edits are not detected (watching the index would rebuild the crate
//! at every `git add`).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=FLUXLAB_GIT_COMMIT");
    let commit = match std::env::var("FLUXLAB_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => from_git().unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=FLUXLAB_GIT_COMMIT={commit}");
}

fn from_git() -> Option<String> {
    let head = git(&["rev-parse", "HEAD"])?;
    // Rebuild when HEAD moves: the HEAD file of this worktree, the branch it names (loose or
    // packed) in the common directory.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        println!("cargo:rerun-if-changed={common}/packed-refs");
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={common}/{branch}");
        }
    }
    Some(head)
}
