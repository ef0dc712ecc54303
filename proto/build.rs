//! Compiles `dispatch/v1/*.proto` with protox (a protobuf compiler in Rust), so building the workspace
//! needs no system `protoc`. Also writes the encoded descriptor set that gRPC server reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

const FILES: &[&str] = &[
    "dispatch/v1/common.proto",
    "dispatch/v1/courier.proto",
    "dispatch/v1/kitchen.proto",
    "dispatch/v1/support.proto",
    "dispatch/v1/events.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for file in FILES {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(FILES, ["."])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("dispatch_v1_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
