//! What the process itself costs, read from `/proc/self` (Linux): resident memory, CPU time, the limit on
//! open files.

use anyhow::Context as _;

/// Resident set size in bytes (`VmRSS`).
pub fn rss_bytes() -> anyhow::Result<u64> {
    status_kib("VmRSS:").map(|kib| kib * 1024)
}

/// Peak resident set size in bytes (`VmHWM`).
pub fn peak_rss_bytes() -> anyhow::Result<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .with_context(|| format!("no {field} in /proc/self/status"))?;
    line.split_whitespace()
        .nth(1)
        .context("a status line without a value")?
        .parse()
        .context("a status value that is not a number")
}

/// User plus system CPU time of the whole process so far, in seconds (clock ticks at the usual 100 Hz).
pub fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // The command name may hold spaces; the fields after its closing parenthesis are plain.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("an odd /proc/self/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    let ticks =
        |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).context("a short /proc/self/stat")?.parse::<f64>()?) };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// Busy CPU time of the whole machine so far (every process, the database included), in seconds: the
/// first line of `/proc/stat` without idle and iowait.
pub fn machine_busy_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = stat.lines().next().context("an empty /proc/stat")?;
    let mut busy = 0.0;
    for (i, field) in line.split_whitespace().skip(1).take(8).enumerate() {
        // user nice system idle iowait irq softirq steal
        if i != 3 && i != 4 {
            busy += field.parse::<f64>().context("an odd /proc/stat")?;
        }
    }
    Ok(busy / 100.0)
}

/// CPU used over a stretch of time, by this process and by the whole machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    process: f64,
    machine: f64,
}

impl CpuMark {
    pub fn now() -> anyhow::Result<Self> {
        Ok(Self {
            process: cpu_seconds()?,
            machine: machine_busy_seconds()?,
        })
    }

    /// Cores busy since `self` over `elapsed`: (this process, everything else on the machine).
    pub fn since(self, elapsed: std::time::Duration) -> anyhow::Result<(f64, f64)> {
        let now = Self::now()?;
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let process = (now.process - self.process) / seconds;
        let machine = (now.machine - self.machine) / seconds;
        Ok((process, (machine - process).max(0.0)))
    }
}

/// Fails with the command to run when the soft limit on open files is below `needed`.
pub fn ensure_open_files(needed: usize) -> anyhow::Result<()> {
    let limits = std::fs::read_to_string("/proc/self/limits").context("reading /proc/self/limits")?;
    let soft = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .context("no open-files limit in /proc/self/limits")?;
    if soft == "unlimited" {
        return Ok(());
    }
    let soft: usize = soft.parse().context("an open-files limit that is not a number")?;
    anyhow::ensure!(
        soft >= needed,
        "the fan-out needs {needed} open files (both ends of every socket are in this process) but the soft \
         limit is {soft}: run `ulimit -n {}` first, or lower BENCH_WORKSPACES/BENCH_SUBSCRIBERS",
        needed.next_power_of_two()
    );
    Ok(())
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
