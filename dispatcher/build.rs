//! Embeds `../migrations/NNNN_name.sql` into the binary, so the dispatcher applies its own schema at
//! start-up with nothing to install beside it. Refuses badly named or duplicate-numbered files at
//! build time rather than at a customer's start-up.

use std::{collections::BTreeMap, env, fmt::Write as _, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../migrations");
    let dir = dir.canonicalize()?;
    println!("cargo:rerun-if-changed={}", dir.display());

    let mut found = BTreeMap::new();
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        println!("cargo:rerun-if-changed={}", path.display());
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let (number, name) = stem
            .split_once('_')
            .ok_or_else(|| format!("migration {file}: expected NNNN_name.sql"))?;
        let version: u32 = number
            .parse()
            .map_err(|_| format!("migration {file}: {number:?} is not a number"))?;
        if found
            .insert(version, (name.to_owned(), path.clone()))
            .is_some()
        {
            return Err(format!("migration number {version} is used twice").into());
        }
    }

    let mut code = String::from("&[\n");
    for (version, (name, path)) in &found {
        writeln!(
            code,
            "    Migration {{ version: {version}, name: {name:?}, sql: include_str!({:?}) }},",
            path.display().to_string()
        )?;
    }
    code.push_str("]\n");
    let out = PathBuf::from(env::var("OUT_DIR")?).join("migrations.rs");
    fs::write(out, code)?;
    Ok(())
}
