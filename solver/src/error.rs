//! The solver's errors.

/// Everything that can go wrong before or during a solve.
#[derive(Debug, thiserror::Error)]
pub enum SolverError {
    /// The problem is inconsistent (index out of range, inverted window, negative size, ...).
    #[error("invalid problem: {0}")]
    InvalidProblem(String),
    /// A benchmark instance file could not be parsed.
    #[error("{file}: line {line}: {message}")]
    Parse {
        /// File name (or "<input>").
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The solver's threads could not be started.
    #[error("cannot start solver threads: {0}")]
    Threads(String),
    /// Reading a file failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
