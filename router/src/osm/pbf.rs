//! Reading an `.osm.pbf` file block by block on the rayon pool.
//!
//! A file is a header blob followed by data blobs of a few thousand elements each. Reading them off
//! disk is sequential and cheap; inflating and decoding them is the cost, so that runs in parallel,
//! and the results come back in file order so that everything built from them is deterministic.

use std::path::Path;

use osmpbf::{BlobDecode, BlobReader, ErrorKind, PrimitiveBlock};
use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::error::{Result, RouterError};

/// Header features we can read. The format says to refuse a file that requires anything else.
const KNOWN_FEATURES: &[&str] = &["OsmSchema-V0.6", "DenseNodes"];

/// Runs `f` on every data block of the file and returns its results in file order.
///
/// Fails with [`RouterError::Io`] when the file cannot be opened or read, and with
/// [`RouterError::Pbf`] when it is not a valid PBF file: no header block first, a header requiring
/// features we do not know, or a blob that does not decode.
pub(super) fn map_blocks<T, F>(path: &Path, f: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(&PrimitiveBlock) -> T + Sync + Send,
{
    let reader = BlobReader::from_path(path).map_err(|e| error(path, e))?;
    let mut blocks = reader
        .enumerate()
        .par_bridge()
        .map(|(i, blob)| -> Result<(usize, Block<T>)> {
            let blob = blob.map_err(|e| error(path, e))?;
            let block = match blob.decode().map_err(|e| error(path, e))? {
                BlobDecode::OsmHeader(header) => {
                    match header
                        .required_features()
                        .iter()
                        .find(|f| !KNOWN_FEATURES.contains(&f.as_str()))
                    {
                        Some(feature) => Block::Unsupported(feature.clone()),
                        None => Block::Header,
                    }
                }
                BlobDecode::OsmData(block) => Block::Data(f(&block)),
                // The format says to skip blob types one does not know.
                BlobDecode::Unknown(_) => Block::Skipped,
            };
            Ok((i, block))
        })
        .collect::<Result<Vec<_>>>()?;
    blocks.sort_unstable_by_key(|&(i, _)| i);
    let bad = |reason: String| RouterError::Pbf {
        path: path.to_owned(),
        reason,
    };
    match blocks.first() {
        Some((_, Block::Header)) => {}
        Some((_, Block::Unsupported(feature))) => {
            return Err(bad(format!("requires unsupported feature {feature}")));
        }
        _ => return Err(bad("no OSMHeader block at the start".into())),
    }
    Ok(blocks
        .into_iter()
        .filter_map(|(_, block)| match block {
            Block::Data(t) => Some(t),
            _ => None,
        })
        .collect())
}

/// What one blob turned out to be.
enum Block<T> {
    Header,
    Unsupported(String),
    Data(T),
    Skipped,
}

/// Operating-system trouble is [`RouterError::Io`], except a file that ends mid-blob, which is a
/// damaged file; everything else the decoder says is [`RouterError::Pbf`].
fn error(path: &Path, err: osmpbf::Error) -> RouterError {
    let reason = err.to_string();
    match err.into_kind() {
        ErrorKind::Io(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
            RouterError::Io {
                path: path.to_owned(),
                source,
            }
        }
        _ => RouterError::Pbf {
            path: path.to_owned(),
            reason,
        },
    }
}
