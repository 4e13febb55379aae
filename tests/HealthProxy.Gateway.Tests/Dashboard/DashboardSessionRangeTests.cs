using HealthProxy.Gateway.Dashboard;
using HealthProxy.Gateway.Views;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Tests.Dashboard;

public sealed class DashboardSessionRangeTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Theory]
    [InlineData("253402300800.AAAA")]
    [InlineData("999999999999999999.AAAA")]
    [InlineData("9223372036854775807.AAAA")]
    public void IsValid_ExpiryBeyondDateTimeOffset_RefusedWithoutThrowing(string value) =>
        Assert.False(DashboardSession.IsValid(new HealthEndpointAccess(Options.Create(new HealthSecurityOptions { DetailedToken = "t" })), value, Now));

    [Fact]
    public void IsValid_LastRepresentableExpiry_StillChecksTheSignature()
    {
        var access = new HealthEndpointAccess(Options.Create(new HealthSecurityOptions { DetailedToken = "t" }));
        var session = DashboardSession.Create(access, DateTimeOffset.MaxValue);

        Assert.True(DashboardSession.IsValid(access, session, Now));
    }
}
