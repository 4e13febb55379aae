using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Resilience;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class RetryPolicyTests
{
    [Fact]
    public void Default_IsTheOneSafeRetry()
    {
        var policy = RetryPolicy.Default;

        Assert.Equal(2, policy.MaxAttempts);
        Assert.Null(policy.PerTryTimeout);
        Assert.False(policy.IdempotentWrites);
        Assert.True(policy.Retries(RetryConditions.GatewayError));
        Assert.True(policy.Retries(RetryConditions.Reset));
        Assert.True(policy.Retries(RetryConditions.ConnectFailure));
        Assert.False(policy.Retries(RetryConditions.RefusedStream));
        Assert.Equal([502, 503, 504], Enumerable.Range(100, 500).Where(policy.Statuses.Contains));
    }

    [Fact]
    public void With_NoRetryKeys_ReturnsItself()
    {
        var metadata = new Dictionary<string, string> { [HealthProxyMetadata.Category] = "x" };

        Assert.Same(RetryPolicy.Default, RetryPolicy.Default.With(metadata, "p", route: false, []));
        Assert.Same(RetryPolicy.Default, RetryPolicy.Default.With(null, "p", route: false, []));
    }

    [Fact]
    public void With_FiveXx_ImpliesResetConnectFailureAndRefusedStream()
    {
        var policy = Parse(new() { [HealthProxyMetadata.RetryOn] = "5xx" });

        Assert.True(policy.Retries(RetryConditions.Reset | RetryConditions.ConnectFailure | RetryConditions.RefusedStream));
        Assert.Equal(Enumerable.Range(500, 100), Enumerable.Range(100, 500).Where(policy.Statuses.Contains));
    }

    [Fact]
    public void With_RouteOverCluster_EachKeyReplacesItsOwnOnly()
    {
        var cluster = Parse(new() { [HealthProxyMetadata.RetryOn] = "retriable-status-codes", [HealthProxyMetadata.RetriableStatusCodes] = "500", [HealthProxyMetadata.MaxAttempts] = "3" });

        var route = cluster.With(new Dictionary<string, string> { [HealthProxyMetadata.PerTryTimeout] = "00:00:00.250", [HealthProxyMetadata.IdempotentWrites] = "true" }, "r", route: true, []);

        Assert.Equal(3, route.MaxAttempts);
        Assert.Equal("500", route.RetriableStatusCodes);
        Assert.True(route.Statuses.Contains(500));
        Assert.False(route.Statuses.Contains(503));
        Assert.Equal(TimeSpan.FromMilliseconds(250), route.PerTryTimeout);
        Assert.True(route.IdempotentWrites);
    }

    [Theory]
    [InlineData(HealthProxyMetadata.RetryOn, "5xx,sometimes", "p:HealthProxy.RetryOn must be a comma list of")]
    [InlineData(HealthProxyMetadata.RetryOn, "", "p:HealthProxy.RetryOn must be a comma list of")]
    [InlineData(HealthProxyMetadata.RetryOn, " , ", "p:HealthProxy.RetryOn must be a comma list of")]
    [InlineData(HealthProxyMetadata.RetryOn, "retriable-status-codes", "p:HealthProxy.RetryOn lists retriable-status-codes but no HealthProxy.RetriableStatusCodes are set")]
    [InlineData(HealthProxyMetadata.RetriableStatusCodes, "200", "p:HealthProxy.RetriableStatusCodes must list codes or ranges from 400 to 599")]
    [InlineData(HealthProxyMetadata.RetriableStatusCodes, "5xx", "p:HealthProxy.RetriableStatusCodes must list codes or ranges from 400 to 599")]
    [InlineData(HealthProxyMetadata.MaxAttempts, "0", "p:HealthProxy.MaxAttempts must be a whole number from 1 to 10")]
    [InlineData(HealthProxyMetadata.MaxAttempts, "11", "p:HealthProxy.MaxAttempts must be a whole number from 1 to 10")]
    [InlineData(HealthProxyMetadata.PerTryTimeout, "soon", "p:HealthProxy.PerTryTimeout must be a time span between")]
    [InlineData(HealthProxyMetadata.PerTryTimeout, "00:00:00", "p:HealthProxy.PerTryTimeout must be a time span between")]
    [InlineData(HealthProxyMetadata.IdempotentWrites, "yes", "p:HealthProxy.IdempotentWrites must be true or false")]
    public void With_BadValue_NamesTheKey(string key, string value, string expected)
    {
        var problems = new List<string>();

        RetryPolicy.Default.With(new Dictionary<string, string> { [key] = value }, "p", route: true, problems);

        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void With_IdempotentWritesOnACluster_Refused()
    {
        var problems = new List<string>();

        RetryPolicy.Default.With(new Dictionary<string, string> { [HealthProxyMetadata.IdempotentWrites] = "true" }, "c", route: false, problems);

        Assert.Equal(["c:HealthProxy.IdempotentWrites is a route setting; set it on the routes whose writes are idempotent."], problems);
    }

    private static RetryPolicy Parse(Dictionary<string, string> metadata)
    {
        var problems = new List<string>();
        var policy = RetryPolicy.Default.With(metadata, "p", route: false, problems);
        Assert.Empty(problems);
        return policy;
    }
}
