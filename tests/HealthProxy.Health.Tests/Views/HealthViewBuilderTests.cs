using System.Diagnostics;
using HealthProxy.Health.Views;
using Xunit.Abstractions;

namespace HealthProxy.Health.Tests.Views;

public sealed class HealthViewBuilderTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, (string Category, string[] DependsOn)> ArticleServices = new()
    {
        ["payment"] = ("payments", []),
        ["checkout"] = ("payments", ["payment"]),
        ["cart"] = ("shop", ["checkout"]),
        ["storefront"] = ("shop", ["cart"]),
        ["order-history"] = ("shop", ["payment"]),
        ["analytics"] = ("reporting", ["payment"]),
    };

    [Fact]
    public void Apply_ArticlePaymentDown_MarksEveryDependentAffectedAndStartsOneCascade()
    {
        var builder = Article();

        var update = builder.Apply(Service("payment", healthy: 0, total: 2), T0.AddMinutes(1));

        var cascade = Assert.Single(update.NewCascades);
        Assert.Equal("payment", cascade.Root);
        Assert.Equal(["analytics", "cart", "checkout", "order-history", "storefront"], cascade.Affected.Order(StringComparer.Ordinal));
        var views = update.Snapshot;
        Assert.Equal(["analytics", "cart", "checkout", "order-history", "storefront"], views.AffectedBy.Keys.Order(StringComparer.Ordinal));
        Assert.All(views.AffectedBy.Values, roots => Assert.Equal(["payment"], roots.AsEnumerable()));
        Assert.Equal(AggregateHealth.Unhealthy, views.Services["payment"].Health);
        Assert.Equal(T0.AddMinutes(1), views.Services["payment"].Since);
        Assert.Equal(AggregateHealth.Unhealthy, views.Categories["payments"].Health);
        Assert.Equal(AggregateHealth.Healthy, views.Categories["shop"].Health);
        Assert.Equal(AggregateHealth.Degraded, views.Overall.Health);
        Assert.Equal(new GroupHealthView(AggregateHealth.Degraded, 5, 5, 6), views.Overall);
    }

    [Fact]
    public void Apply_DownstreamFailsAfterRoot_NoSecondCascade()
    {
        var builder = Article();
        builder.Apply(Service("payment", 0, 2), T0);

        var update = builder.Apply(Service("checkout", 0, 2), T0);

        Assert.Empty(update.NewCascades);
        Assert.Equal(["payment"], update.Snapshot.Cascades.Keys);
        Assert.Equal(["payment"], update.Snapshot.AffectedBy["cart"].AsEnumerable());
    }

    [Fact]
    public void Apply_UpstreamFailsAfterDownstream_UpstreamIsTheNewRoot()
    {
        var builder = Article();
        var first = builder.Apply(Service("checkout", 0, 2), T0);
        Assert.Equal(["cart", "storefront"], Assert.Single(first.NewCascades).Affected.AsEnumerable());

        var update = builder.Apply(Service("payment", 0, 2), T0);

        Assert.Equal("payment", Assert.Single(update.NewCascades).Root);
        Assert.Equal(["payment"], update.Snapshot.Cascades.Keys);
    }

    [Fact]
    public void Apply_StillUnhealthy_NoNewCascade()
    {
        var builder = Article();
        builder.Apply(Service("payment", 0, 2), T0);

        var update = builder.Apply(Service("payment", 0, 3), T0.AddSeconds(5));

        Assert.Empty(update.NewCascades);
        Assert.Equal(T0, update.Snapshot.Services["payment"].Since);
    }

    [Fact]
    public void Apply_RootRecovers_NothingAffected()
    {
        var builder = Article();
        builder.Apply(Service("payment", 0, 2), T0);

        var update = builder.Apply(Service("payment", 2, 2), T0);

        Assert.Empty(update.Snapshot.Cascades);
        Assert.Empty(update.Snapshot.AffectedBy);
        Assert.Equal(AggregateHealth.Healthy, update.Snapshot.Overall.Health);
    }

    [Fact]
    public void Apply_CycleAllDown_EachOnceNoHang()
    {
        var builder = new HealthViewBuilder();
        builder.Apply(new ServiceHealthInput("a", null, false, 1, 1, 1, ["b"]), T0);
        builder.Apply(new ServiceHealthInput("b", null, false, 1, 1, 1, ["a"]), T0);
        builder.Apply(new ServiceHealthInput("c", null, false, 1, 1, 1, ["a"]), T0);

        var first = builder.Apply(new ServiceHealthInput("a", null, false, 0, 0, 1, ["b"]), T0);
        var second = builder.Apply(new ServiceHealthInput("b", null, false, 0, 0, 1, ["a"]), T0);

        Assert.Equal(["b", "c"], Assert.Single(first.NewCascades).Affected.AsEnumerable());
        Assert.Empty(second.NewCascades);
        Assert.Equal(["a", "b"], second.Snapshot.AffectedBy["c"].AsEnumerable());
        Assert.Equal(["b"], second.Snapshot.AffectedBy["a"].AsEnumerable());
    }

    [Fact]
    public void Apply_Unchanged_SameSnapshot()
    {
        var builder = Article();
        var before = builder.Current;

        var update = builder.Apply(Service("cart", 2, 2), T0.AddHours(1));

        Assert.False(update.Changed);
        Assert.Same(before, update.Snapshot);
    }

    [Fact]
    public void Apply_CategoryMoves_CountsFollow()
    {
        var builder = Article();

        var update = builder.Apply(Service("analytics", 2, 2) with { Category = "shop" }, T0);

        Assert.False(update.Snapshot.Categories.ContainsKey("reporting"));
        Assert.Equal(4, update.Snapshot.Categories["shop"].Total);
        Assert.Equal(6, update.Snapshot.Overall.Total);
    }

    [Fact]
    public void Remove_Service_LeavesCountsAndCategory()
    {
        var builder = Article();

        var update = builder.Remove("analytics");

        Assert.False(update.Snapshot.Categories.ContainsKey("reporting"));
        Assert.Equal(5, update.Snapshot.Overall.Total);
    }

    [Fact]
    public void Apply_ThousandServices_PrintsTheCostOfAChangeAndOfAFailure()
    {
        var graph = DependencyGraphTests.Thousand();
        var builder = new HealthViewBuilder();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < 1000; i++)
        {
            var name = DependencyGraphTests.Name(i);
            builder.Apply(new ServiceHealthInput(name, $"cat-{i % 10}", false, 3, 3, 3, graph.DependenciesOf(name)), T0);
        }

        var build = Stopwatch.GetElapsedTime(started);
        started = Stopwatch.GetTimestamp();
        for (var n = 0; n < 1000; n++)
        {
            var name = DependencyGraphTests.Name(500 + (n % 400));
            builder.Apply(new ServiceHealthInput(name, $"cat-{n % 10}", false, 2 + (n % 2), 2 + (n % 2), 3, graph.DependenciesOf(name)), T0);
        }

        var change = Stopwatch.GetElapsedTime(started) / 1000;
        started = Stopwatch.GetTimestamp();
        var failure = builder.Apply(new ServiceHealthInput("svc-0000", "cat-0", false, 0, 0, 3, []), T0);
        var cascade = Stopwatch.GetElapsedTime(started);

        Assert.Equal(999, Assert.Single(failure.NewCascades).Affected.Length);
        Assert.Equal(999, failure.Snapshot.AffectedBy.Count);
        Assert.Equal(1000, failure.Snapshot.Overall.Total);
        output.WriteLine(
            $"1,000 services, {graph.EdgeCount} edges: built in {build.TotalMilliseconds:F1} ms; " +
            $"one state change {change.TotalMicroseconds:F1} us; root failure with blast radius 999 {cascade.TotalMilliseconds:F2} ms");
    }

    private static HealthViewBuilder Article()
    {
        var builder = new HealthViewBuilder();
        foreach (var (name, (category, dependsOn)) in ArticleServices)
        {
            builder.Apply(new ServiceHealthInput(name, category, false, 2, 2, 2, dependsOn), T0);
        }

        return builder;
    }

    [Fact]
    public void Apply_OneHealthyOneDegraded_ServiceDegradedServingAndNoCascade()
    {
        var builder = Article();

        var update = builder.Apply(Service("payment", healthy: 1, total: 2, readEligible: 2), T0);

        var payment = update.Snapshot.Services["payment"];
        Assert.Equal(AggregateHealth.Degraded, payment.Health);
        Assert.True(payment.Serving);
        Assert.Empty(update.NewCascades);
        Assert.Empty(update.Snapshot.Cascades);
        Assert.Equal(new GroupHealthView(AggregateHealth.Degraded, 5, 6, 6), update.Snapshot.Overall);
    }

    [Fact]
    public void Apply_OnlyDegradedInstances_StillServesReads()
    {
        var builder = Article();

        var update = builder.Apply(Service("payment", healthy: 0, total: 3, readEligible: 1), T0);

        Assert.Equal(AggregateHealth.Degraded, update.Snapshot.Services["payment"].Health);
        Assert.Empty(update.Snapshot.Unhealthy);
    }

    [Fact]
    public void Apply_DegradedThenHealthy_AccumulatesDegradedTime()
    {
        var builder = Article();
        builder.Apply(Service("payment", 1, 2, readEligible: 2), T0);
        Assert.Equal(TimeSpan.FromSeconds(30), builder.Current.Services["payment"].DegradedTime(T0.AddSeconds(30)));

        builder.Apply(Service("payment", 2, 2), T0.AddMinutes(1));
        builder.Apply(Service("payment", 1, 2, readEligible: 2), T0.AddMinutes(2));

        Assert.Equal(TimeSpan.FromSeconds(70), builder.Current.Services["payment"].DegradedTime(T0.AddMinutes(2).AddSeconds(10)));
    }

    [Fact]
    public void Apply_CriticalMember_CountsInItsCategory()
    {
        var builder = Article();

        builder.Apply(Service("payment", 2, 2) with { Critical = true }, T0);

        Assert.Equal(1, builder.Current.Categories["payments"].Critical);
        Assert.Equal(0, builder.Current.Categories["shop"].Critical);
        builder.Remove("payment");
        Assert.Equal(0, builder.Current.Categories["payments"].Critical);
    }

    private static ServiceHealthInput Service(string name, int healthy, int total, int? readEligible = null) =>
        new(name, ArticleServices[name].Category, false, healthy, readEligible ?? healthy, total, ArticleServices[name].DependsOn);
}
