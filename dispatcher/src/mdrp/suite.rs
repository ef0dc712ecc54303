//! Every instance below a folder, replayed and checked, as one table with the published figures
//! beside ours where they exist and our gap to each instance's lower bound.

use std::{collections::HashMap, path::Path};

use super::{MdrpError, check, instance::Instance, metrics::Metrics, sim};

/// One instance's replay.
#[derive(Debug, Clone)]
pub struct Row {
    /// Instance name.
    pub name: String,
    /// Our metrics.
    pub metrics: Metrics,
    /// Violations the checker found (0 for a feasible replay).
    pub violations: usize,
    /// Wall seconds of the replay.
    pub seconds: f64,
    /// How the planning rounds went.
    pub planning: sim::Planning,
}

/// Published per-instance means: (instance, method, metric) → value, from `published_results.csv`.
#[derive(Debug, Clone, Default)]
pub struct Published(HashMap<(String, String, String), f64>);

impl Published {
    /// Reads `published_results.csv` (instance,source,method,metric,value,note); a missing file is
    /// an empty table.
    pub fn load(path: &Path) -> Self {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Self::default();
        };
        let rows = text.lines().skip(1).filter_map(|line| {
            // The note, last, may hold quoted commas; the first five fields never do.
            let mut fields = line.splitn(6, ',');
            let instance = fields.next()?.to_owned();
            let _source = fields.next()?;
            let method = fields.next()?.to_owned();
            let metric = fields.next()?.to_owned();
            let value = fields.next()?.parse().ok()?;
            Some(((instance, method, metric), value))
        });
        Self(rows.collect())
    }

    /// A published value.
    pub fn get(&self, instance: &str, method: &str, metric: &str) -> Option<f64> {
        self.0
            .get(&(instance.to_owned(), method.to_owned(), metric.to_owned()))
            .copied()
    }
}

/// Replays every instance folder directly below `root` (sorted by name), writing each one's files
/// under `out/<name>/`.
pub async fn run_all(
    root: &Path,
    out: &Path,
    options: &sim::SimOptions,
    mut progress: impl FnMut(&Row),
) -> Result<Vec<Row>, MdrpError> {
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .map_err(|source| MdrpError::Io {
            path: root.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("orders.txt").is_file())
        .collect();
    dirs.sort();
    let mut rows = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let instance = Instance::load(&dir)?;
        let started = std::time::Instant::now();
        let sim::Replayed { replay, planning } = sim::replay(&instance, instance.name(), options)
            .await
            .map_err(|e| MdrpError::Replay(e.to_string()))?;
        let seconds = started.elapsed().as_secs_f64();
        let folder = out.join(instance.name());
        std::fs::create_dir_all(&folder).map_err(|source| MdrpError::Io {
            path: folder.clone(),
            source,
        })?;
        replay.write(&folder, &instance)?;
        let violations = check::check(&instance, &replay)
            .err()
            .map_or(0, |v| v.len());
        let row = Row {
            name: instance.name().to_owned(),
            metrics: Metrics::compute(&instance, &replay),
            violations,
            seconds,
            planning,
        };
        progress(&row);
        rows.push(row);
    }
    Ok(rows)
}

/// The table, in Markdown, with a mean row.
pub fn render(rows: &[Row], published: &Published) -> String {
    let mut out = String::from(
        "| instance | feasible | s | longest round s | undel. % | CtD | CtD p90 | bound | gap | published CtD | \
         overage | RtP | RtP p90 | published RtP | util. | util. p10 | $/order | ord/bundle |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let opt = |v: Option<f64>| v.map_or_else(|| "".to_owned(), |v| format!("{v:.2}"));
    for r in rows {
        let m = &r.metrics;
        out.push_str(&format!(
            "| {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {:.1} | {} \
             | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            r.name,
            if r.violations == 0 { "yes".to_owned() } else { format!("no ({})", r.violations) },
            r.seconds,
            r.planning.max_s,
            m.undelivered_pct,
            m.ctd_mean,
            m.ctd_p90,
            m.ctd_lb_mean,
            m.ctd_mean - m.ctd_lb_mean,
            opt(published.get(&r.name, "rolling_horizon_default", "ctd_mean_min")),
            m.overage_mean,
            m.rtp_mean,
            m.rtp_p90,
            opt(published.get(&r.name, "rolling_horizon_default", "rtp_mean_min")),
            m.utilization_mean,
            m.utilization_p10,
            m.cost_per_order,
            m.orders_per_bundle,
        ));
    }
    let all: Vec<Metrics> = rows.iter().map(|r| r.metrics).collect();
    let m = Metrics::mean(&all);
    let feasible = rows.iter().filter(|r| r.violations == 0).count();
    out.push_str(&format!(
        "| **mean of {}** | {feasible}/{} | {:.1} | {:.2} (max) | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | | {:.2} | {:.2} \
         | {:.1} | | {:.2} | {:.2} | {:.2} | {:.2} |\n",
        rows.len(),
        rows.len(),
        rows.iter().map(|r| r.seconds).sum::<f64>() / rows.len().max(1) as f64,
        rows.iter().map(|r| r.planning.max_s).fold(0.0, f64::max),
        m.undelivered_pct,
        m.ctd_mean,
        m.ctd_p90,
        m.ctd_lb_mean,
        m.ctd_mean - m.ctd_lb_mean,
        m.overage_mean,
        m.rtp_mean,
        m.rtp_p90,
        m.utilization_mean,
        m.utilization_p10,
        m.cost_per_order,
        m.orders_per_bundle,
    ));
    out
}
