using System.Diagnostics;
using HealthProxy.Health.Views;
using Xunit.Abstractions;

namespace HealthProxy.Health.Tests.Views;

public sealed class DependencyGraphTests(ITestOutputHelper output)
{
    /// <summary>The article's example: each service and what it depends on.</summary>
    public static DependencyGraph Article() => DependencyGraph.Create(new Dictionary<string, IEnumerable<string>>
    {
        ["checkout"] = ["payment"],
        ["cart"] = ["checkout"],
        ["storefront"] = ["cart"],
        ["order-history"] = ["payment"],
        ["analytics"] = ["payment"],
    });

    [Fact]
    public void AffectedBy_ArticlePaymentDown_EveryTransitiveDependentOnceNearestFirst()
    {
        var affected = Article().AffectedBy("payment");

        Assert.Equal(["analytics", "checkout", "order-history", "cart", "storefront"], affected);
    }

    [Fact]
    public void AffectedBy_LeafDown_NothingAffected()
    {
        Assert.Empty(Article().AffectedBy("storefront"));
    }

    [Fact]
    public void AffectedBy_Cycle_EndsAndCountsEachOnce()
    {
        var graph = DependencyGraph.Create(new Dictionary<string, IEnumerable<string>>
        {
            ["a"] = ["b"],
            ["b"] = ["c"],
            ["c"] = ["a"],
            ["d"] = ["c", "a"],
        });

        var affected = graph.AffectedBy("a");

        Assert.Equal(["c", "d", "b"], affected);
        Assert.DoesNotContain("a", affected);
    }

    [Fact]
    public void WithDependencies_EdgesReplaced_ReverseEdgesFollow()
    {
        var graph = Article().WithDependencies("analytics", ["order-history"]);

        Assert.DoesNotContain("analytics", graph.DependentsOf("payment"));
        Assert.Equal(["analytics"], graph.DependentsOf("order-history"));
        Assert.Equal(5, graph.EdgeCount);
        Assert.Contains("analytics", graph.AffectedBy("payment"));
    }

    [Fact]
    public void WithDependencies_SameEdges_SameInstance()
    {
        var graph = Article();

        Assert.Same(graph, graph.WithDependencies("checkout", ["payment", "checkout"]));
    }

    [Fact]
    public void AffectedBy_ThousandServices_EveryoneReachedOnce()
    {
        var graph = Thousand();
        var started = Stopwatch.GetTimestamp();
        var affected = graph.AffectedBy("svc-0000");
        var elapsed = Stopwatch.GetElapsedTime(started);

        Assert.Equal(999, affected.Count);
        Assert.Equal(999, affected.Distinct().Count());
        output.WriteLine($"blast radius of the root of a 1,000-service graph ({graph.EdgeCount} edges): {elapsed.TotalMilliseconds:F3} ms");
    }

    /// <summary>
    /// 1,000 services, each depending on up to three earlier ones (so svc-0000 reaches everything),
    /// plus back edges that close cycles.
    /// </summary>
    public static DependencyGraph Thousand()
    {
        var random = new Random(42);
        var edges = new Dictionary<string, IEnumerable<string>>();
        for (var i = 1; i < 1000; i++)
        {
            var dependencies = new HashSet<string> { Name(i - 1) };
            for (var k = 0; k < 2; k++)
            {
                dependencies.Add(Name(random.Next(i)));
            }

            if (i % 50 == 0)
            {
                dependencies.Add(Name(i + 10 < 1000 ? i + 10 : 0));
            }

            edges[Name(i)] = dependencies;
        }

        return DependencyGraph.Create(edges);
    }

    public static string Name(int i) => $"svc-{i:D4}";
}
