using Google.Protobuf;
using Google.Protobuf.Reflection;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.GrpcRouting;
using HealthProxy.Health;
using Level = Google.Protobuf.Reflection.MethodOptions.Types.IdempotencyLevel;

namespace HealthProxy.Gateway.Tests.GrpcRouting;

public sealed class GrpcRouteMethodsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("grpc-methods-").FullName;

    [Fact]
    public void Find_NoGrpcMetadata_EveryMethodIsAnUncountedWrite()
    {
        var methods = GrpcRouteMethods.Parse(new Dictionary<string, string> { ["other"] = "x" }, Resolve, "p", []);

        Assert.Same(GrpcRouteMethods.None, methods);
        Assert.Same(GrpcMethod.Other, methods.Find("/shop.Cart/Get"));
        Assert.Equal(RequestKind.Write, GrpcMethod.Other.Kind);
    }

    [Theory]
    [InlineData("/shop.Cart/Get", RequestKind.Read, "shop.Cart/Get")]
    [InlineData("/shop.Cart/Add", RequestKind.Write, "other")]
    [InlineData("/shop.Catalog/List", RequestKind.Read, "shop.Catalog/*")]
    [InlineData("/shop.Catalog/Anything", RequestKind.Read, "shop.Catalog/*")]
    [InlineData("/shop.CatalogX/List", RequestKind.Write, "other")]
    [InlineData("/shop.Cart", RequestKind.Write, "other")]
    [InlineData("shop.Cart/Get", RequestKind.Write, "other")]
    [InlineData("", RequestKind.Write, "other")]
    public void Find_ReadMethodsFromMetadata_ExactAndServiceWildcards(string path, RequestKind kind, string label)
    {
        var methods = GrpcRouteMethods.Parse(Metadata(reads: "shop.Cart/Get, /shop.Catalog/*"), Resolve, "p", []);

        var method = methods.Find(path);

        Assert.Equal(kind, method.Kind);
        Assert.Equal(label, method.Label);
    }

    [Fact]
    public void Find_DescriptorSet_IdempotencyLevelsDecide()
    {
        var file = WriteDescriptorSet(("shop", "Cart", [("Get", Level.NoSideEffects), ("Put", Level.Idempotent), ("Add", Level.IdempotencyUnknown)]));
        var methods = GrpcRouteMethods.Parse(Metadata(descriptor: file), Resolve, "p", []);

        Assert.Equal((RequestKind.Read, "shop.Cart/Get"), Of(methods.Find("/shop.Cart/Get")));
        Assert.Equal((RequestKind.Write, "shop.Cart/Put"), Of(methods.Find("/shop.Cart/Put")));
        Assert.True(methods.Find("/shop.Cart/Put").Idempotent);
        Assert.Equal((RequestKind.Write, "shop.Cart/Add"), Of(methods.Find("/shop.Cart/Add")));
        Assert.False(methods.Find("/shop.Cart/Add").Idempotent);
        Assert.Same(GrpcMethod.Other, methods.Find("/shop.Cart/Unknown"));
    }

    [Fact]
    public void Find_MetadataOverDescriptor_ReadMethodsWinAndKeepTheDescriptorsNames()
    {
        var file = WriteDescriptorSet(("", "Cart", [("Add", Level.IdempotencyUnknown)]), ("shop", "Orders", [("Create", Level.IdempotencyUnknown)]));
        var methods = GrpcRouteMethods.Parse(Metadata(reads: "Cart/Add,shop.Orders/*", descriptor: file), Resolve, "p", []);

        Assert.Equal((RequestKind.Read, "Cart/Add"), Of(methods.Find("/Cart/Add")));
        Assert.Equal((RequestKind.Read, "shop.Orders/Create"), Of(methods.Find("/shop.Orders/Create")));
        Assert.Equal((RequestKind.Read, "shop.Orders/*"), Of(methods.Find("/shop.Orders/Other")));
    }

    [Fact]
    public void Find_RouteDeclaresItsKind_EveryMethodTakesIt()
    {
        var metadata = Metadata(reads: "shop.Cart/Get");
        metadata[HealthProxyMetadata.RequestKind] = "Write";
        var methods = GrpcRouteMethods.Parse(metadata, Resolve, "p", []);
        var onlyDeclared = GrpcRouteMethods.Parse(new Dictionary<string, string> { [HealthProxyMetadata.RequestKind] = "Read" }, Resolve, "p", []);

        Assert.Equal((RequestKind.Write, "shop.Cart/Get"), Of(methods.Find("/shop.Cart/Get")));
        Assert.Equal((RequestKind.Write, "other"), Of(methods.Find("/shop.Cart/Add")));
        Assert.Equal((RequestKind.Read, "other"), Of(onlyDeclared.Find("/shop.Cart/Add")));
    }

    [Fact]
    public void Feature_CarriesTheMethod_AndItsFallbackSibling()
    {
        var method = GrpcRouteMethods.Parse(Metadata(reads: "shop.Cart/Get"), Resolve, "p", []).Find("/shop.Cart/Get");

        Assert.Same(method, method.Feature.Grpc);
        Assert.False(method.Feature.Fallback);
        Assert.True(method.Feature.AsFallback().Fallback);
        Assert.Same(method, method.Feature.AsFallback().Grpc);
        Assert.Equal(RequestKind.Read, method.Feature.AsFallback().Kind);
        Assert.Same(method.Feature.AsFallback(), method.Feature.AsFallback());
    }

    [Theory]
    [InlineData("Cart")]
    [InlineData("Cart/")]
    [InlineData("/Get")]
    [InlineData("shop.Cart/Get/More")]
    [InlineData("shop Cart/Get")]
    [InlineData(".shop/Get")]
    [InlineData(" , ")]
    public void Parse_BadReadMethod_NamesTheKey(string value)
    {
        var problems = new List<string>();

        GrpcRouteMethods.Parse(Metadata(reads: value), Resolve, "ReverseProxy:Routes:r:Metadata", problems);

        var problem = Assert.Single(problems);
        Assert.StartsWith($"ReverseProxy:Routes:r:Metadata:{HealthProxyMetadata.GrpcReadMethods} ", problem);
    }

    [Fact]
    public void Parse_DescriptorSetMissingOrNotOne_NamesTheKeyAndTheFile()
    {
        var notOne = Path.Combine(_dir, "not.pb");
        File.WriteAllText(notOne, "{ \"this is\": \"json\" }");
        var empty = Path.Combine(_dir, "empty.pb");
        File.WriteAllBytes(empty, new FileDescriptorSet().ToByteArray());

        foreach (var file in new[] { "missing.pb", notOne, empty })
        {
            var problems = new List<string>();
            GrpcRouteMethods.Parse(Metadata(descriptor: file), Resolve, "ReverseProxy:Routes:r:Metadata", problems);
            var problem = Assert.Single(problems);
            Assert.StartsWith($"ReverseProxy:Routes:r:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}: '{file}' ", problem);
        }
    }

    [Fact]
    public void ResolvePath_RelativeToTheContentRoot()
    {
        Assert.Equal(Path.Combine(_dir, "protos", "a.pb"), GrpcCalls.ResolvePath(_dir, "protos/a.pb"));
        Assert.Equal("/etc/a.pb", GrpcCalls.ResolvePath(_dir, "/etc/a.pb"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (RequestKind, string) Of(GrpcMethod method) => (method.Kind, method.Label);

    private string Resolve(string path) => GrpcCalls.ResolvePath(_dir, path);

    private static Dictionary<string, string> Metadata(string? reads = null, string? descriptor = null)
    {
        var metadata = new Dictionary<string, string>();
        if (reads is not null)
        {
            metadata[HealthProxyMetadata.GrpcReadMethods] = reads;
        }

        if (descriptor is not null)
        {
            metadata[HealthProxyMetadata.GrpcDescriptorSet] = descriptor;
        }

        return metadata;
    }

    private string WriteDescriptorSet(params (string Package, string Service, (string Name, Level Level)[] Methods)[] services)
    {
        var set = new FileDescriptorSet();
        foreach (var (package, service, methods) in services)
        {
            var proto = new ServiceDescriptorProto { Name = service };
            foreach (var (name, level) in methods)
            {
                proto.Method.Add(new MethodDescriptorProto
                {
                    Name = name, InputType = ".M", OutputType = ".M", Options = new MethodOptions { IdempotencyLevel = level },
                });
            }

            var file = new FileDescriptorProto { Name = $"{package}{service}.proto", Package = package };
            file.Service.Add(proto);
            set.File.Add(file);
        }

        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.pb");
        File.WriteAllBytes(path, set.ToByteArray());
        return path;
    }
}
