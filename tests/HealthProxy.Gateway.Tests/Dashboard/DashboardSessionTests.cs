using HealthProxy.Gateway.Dashboard;
using HealthProxy.Gateway.Views;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Dashboard;

public sealed class DashboardSessionTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void IsValid_FreshSession_AcceptedUntilItExpires()
    {
        var time = new FakeTimeProvider(Start);
        var access = Access("token-one");
        var session = DashboardSession.Create(access, Start + DashboardSession.Lifetime);

        Assert.True(DashboardSession.IsValid(access, session, time.GetUtcNow()));
        time.Advance(DashboardSession.Lifetime - TimeSpan.FromSeconds(1));
        Assert.True(DashboardSession.IsValid(access, session, time.GetUtcNow()));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(DashboardSession.IsValid(access, session, time.GetUtcNow()));
    }

    [Fact]
    public void Create_NeverContainsTheToken_AndSurvivesARestartWithTheSameToken()
    {
        var session = DashboardSession.Create(Access("token-one"), Start.AddHours(1));

        Assert.DoesNotContain("token-one", session, StringComparison.Ordinal);
        Assert.True(DashboardSession.IsValid(Access("token-one"), session, Start));
    }

    [Fact]
    public void IsValid_TokenRotated_Refused()
    {
        var session = DashboardSession.Create(Access("token-one"), Start.AddHours(1));

        Assert.False(DashboardSession.IsValid(Access("token-two"), session, Start));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("abc.def")]
    [InlineData("99999999999.AAAA")]
    [InlineData("-1.AAAA")]
    public void IsValid_Malformed_Refused(string? value) =>
        Assert.False(DashboardSession.IsValid(Access("token-one"), value, Start));

    [Fact]
    public void IsValid_NoTokenConfigured_Refused()
    {
        var session = DashboardSession.Create(Access("token-one"), Start.AddHours(1));

        Assert.False(DashboardSession.IsValid(Access(null), session, Start));
    }

    private static HealthEndpointAccess Access(string? token) =>
        new(Options.Create(new HealthSecurityOptions { DetailedToken = token }));
}
