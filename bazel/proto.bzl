"""Proto and gRPC C++ code generation with Debian's protoc and grpc_cpp_plugin.

Bazel 4.2.3's cc_proto_library would download @com_google_protobuf, and there
is no offline cc_grpc_library, so a genrule runs the system tools. protoc and
the plugin always run on the host; the generated C++ is compiled for the
active target platform (host or --config=aarch64).
"""

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def cc_grpc_proto_library(name, srcs, deps = [], system_root = None, visibility = None):
    """A cc_library with the messages and gRPC stubs of `srcs`.

    Args:
      name: target name.
      srcs: .proto files of this package. The package is the proto root:
        imports and generated includes are relative to it.
      deps: other cc_grpc_proto_library targets whose protos are imported.
      system_root: instead of this package's files, `srcs` are paths under
        this absolute folder of a Debian package (e.g. grpc-proto's
        /usr/share/grpc-proto), which is then the proto root. Like protoc
        and /usr/include, such files are the system's, not Bazel inputs.
      visibility: as usual.
    """
    pkg = native.package_name()
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc", base + ".grpc.pb.h", base + ".grpc.pb.cc"]

    root = system_root if system_root else pkg
    local_srcs = [] if system_root else srcs
    native.genrule(
        name = name + "_codegen",
        srcs = local_srcs + [d + "_protos" for d in deps],
        outs = outs,
        cmd = " ".join([
            _PROTOC,
            "-I" + root,
            "-I/usr/include",
            "--cpp_out=$(GENDIR)/" + pkg,
            "--plugin=protoc-gen-grpc=" + _GRPC_PLUGIN,
            "--grpc_out=$(GENDIR)/" + pkg,
        ] + [root + "/" + s for s in srcs]),
        message = "protoc " + name,
    )

    native.filegroup(
        name = name + "_protos",
        srcs = local_srcs + [d + "_protos" for d in deps],
        visibility = visibility,
    )

    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + [
            "//bazel/system:grpc++",
            "//bazel/system:protobuf",
        ],
        visibility = visibility,
    )
