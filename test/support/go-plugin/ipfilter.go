// A minimal SFTPGo IP filter plugin built with HashiCorp go-plugin (Debian's
// golang-github-hashicorp-go-plugin-dev, GOPATH mode), to prove the
// TypeScript host against Go's own gRPC and TLS stack. The service is
// registered by hand: CheckIPRequest{ip = 1} has the wire form of
// google.protobuf.StringValue (Debian's APIv1 ptypes, which its grpc codec
// understands), and the answer is google.protobuf.Empty, so no
// generated code is needed. Denied addresses: --deny=a,b
package main

import (
	"context"
	"os"
	"strings"

	"github.com/golang/protobuf/ptypes/empty"
	"github.com/golang/protobuf/ptypes/wrappers"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var denied = map[string]bool{}

func checkIP(_ interface{}, ctx context.Context, dec func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(wrappers.StringValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	if denied[in.GetValue()] {
		return nil, status.Errorf(codes.PermissionDenied, "ip %s denied by the go plugin", in.GetValue())
	}
	return &empty.Empty{}, nil
}

var ipFilterDesc = grpc.ServiceDesc{
	ServiceName: "proto.IPFilter",
	HandlerType: (*interface{})(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "CheckIP", Handler: checkIP}},
	Streams:     []grpc.StreamDesc{},
	Metadata:    "ipfilter.proto",
}

type ipFilterPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (ipFilterPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&ipFilterDesc, struct{}{})
	return nil
}

func (ipFilterPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, nil
}

func main() {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "--deny=") {
			for _, ip := range strings.Split(strings.TrimPrefix(a, "--deny="), ",") {
				denied[ip] = true
			}
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "SFTPGO_PLUGIN_IPFILTER",
			MagicCookieValue: "368dbdab-4839-4bec-b75f-fc74a2d50f24",
		},
		Plugins:    map[string]plugin.Plugin{"ipfilter": ipFilterPlugin{}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
