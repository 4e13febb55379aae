using HealthProxy.Gateway.Views;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Gateway.Tests.Views;

public sealed class HealthEndpointAccessStripTests
{
    private const string Token = "s3cret";

    [Theory]
    [InlineData(new[] { "Bearer s3cret" }, new string[0])]
    [InlineData(new[] { "bearer   s3cret  " }, new string[0])]
    [InlineData(new[] { "Bearer s3cret", "Bearer other" }, new[] { "Bearer other" })]
    [InlineData(new[] { "Bearer other", "Bearer s3cret" }, new[] { "Bearer other" })]
    [InlineData(new[] { "Bearer other, Bearer s3cret" }, new[] { "Bearer other" })]
    [InlineData(new[] { "Bearer s3cret,Basic eDp5" }, new[] { "Basic eDp5" })]
    [InlineData(new[] { "s3cret" }, new string[0])]
    [InlineData(new[] { "Token s3cret", "Basic eDp5" }, new[] { "Basic eDp5" })]
    public void StripDetailedToken_AnySpelling_TokenRemovedOtherCredentialsKept(string[] sent, string[] expected)
    {
        IHeaderDictionary headers = new HeaderDictionary { ["Authorization"] = new StringValues(sent) };

        Assert.True(Access(Token).StripDetailedToken(headers));

        Assert.Equal(expected, headers.Authorization.ToArray());
        Assert.DoesNotContain(Token, headers.Authorization.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bearer other")]
    [InlineData("Basic eDpzM2NyZXQ=")]
    [InlineData("Bearer s3cret-longer")]
    public void StripDetailedToken_OtherCredentials_Untouched(string sent)
    {
        IHeaderDictionary headers = new HeaderDictionary { ["Authorization"] = sent };

        Assert.False(Access(Token).StripDetailedToken(headers));

        Assert.Equal(sent, headers.Authorization.ToString());
    }

    [Fact]
    public void StripDetailedToken_OtherCredential_AllocatesNothing()
    {
        var access = Access(Token);
        IHeaderDictionary headers = new HeaderDictionary { ["Authorization"] = new StringValues(["Bearer some-other-token", "Basic eDp5, Bearer x"]) };
        access.StripDetailedToken(headers);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            access.StripDetailedToken(headers);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Apply_RotatedToken_OldRefusedNewAccepted()
    {
        var access = Access("old");

        access.Apply(new HealthSecurityOptions { DetailedToken = "new" });

        Assert.False(access.IsDetailedToken("old"));
        Assert.True(access.IsDetailedToken("new"));
    }

    private static HealthEndpointAccess Access(string token) => new(Options.Create(new HealthSecurityOptions { DetailedToken = token }));
}
