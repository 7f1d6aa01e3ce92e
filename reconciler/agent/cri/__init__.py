"""Client stubs of the CRI `runtime.v1` API (ImageService, RuntimeService), shipped generated.

`api.proto` is the upstream file of kubernetes/cri-api (Apache-2.0, header kept);
`api_pb2.py` and `api_pb2_grpc.py` are what grpcio-tools makes of it, with the licence header
(header.txt) added. Regenerate with `make cri-stubs` after replacing `api.proto`; keep the
`grpcio`/`protobuf` ranges in pyproject.toml at or above the versions the files name
(GRPC_GENERATED_VERSION, "Protobuf Python Version"). The generated files are excluded from ruff
and mypy: reconciler/agent/runtime.py is the only module that touches them.
"""
