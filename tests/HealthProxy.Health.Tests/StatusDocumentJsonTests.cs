using System.Text;
using HealthProxy.Health;

namespace HealthProxy.Health.Tests;

public class StatusDocumentJsonTests
{
    [Fact]
    public void Write_ThenTryParse_RoundTrips()
    {
        var document = new StatusDocument
        {
            Status = HealthState.Degraded,
            Service = "orders",
            Own = HealthState.Healthy,
            Dependencies = new Dictionary<string, DependencyStatus>
            {
                ["postgres"] = new(HealthState.Healthy, Critical: true),
                ["redis"] = new(HealthState.Unhealthy, Critical: false),
            },
        };

        var json = StatusDocumentJson.Write(document);

        Assert.True(StatusDocumentJson.TryParse(json, out var parsed));
        Assert.Equal(HealthState.Degraded, parsed!.Status);
        Assert.Equal("orders", parsed.Service);
        Assert.Equal(HealthState.Healthy, parsed.Own);
        Assert.Equal(new DependencyStatus(HealthState.Unhealthy, false), parsed.Dependencies["redis"]);
        Assert.Equal(new DependencyStatus(HealthState.Healthy, true), parsed.Dependencies["postgres"]);
    }

    [Fact]
    public void Write_Document_UsesLowerCaseWireNames()
    {
        var json = StatusDocumentJson.Write(new StatusDocument { Status = HealthState.Starting });
        Assert.Equal("{\"status\":\"starting\"}", json);
    }

    [Theory]
    [InlineData("{\"status\":\"ready\",\"checks\":[1,2,{\"a\":null}]}", HealthState.Healthy)]
    [InlineData("{\"Status\":\"Draining\"}", HealthState.Draining)]
    [InlineData("{\"service\":\"x\",\"status\":\"DEGRADED\"}", HealthState.Degraded)]
    public void TryParse_TolerantForms_ReadStatus(string json, HealthState expected)
    {
        Assert.True(StatusDocumentJson.TryParse(json, out var document));
        Assert.Equal(expected, document!.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Healthy")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"status\":\"sideways\"}")]
    [InlineData("{\"status\":42}")]
    [InlineData("{\"status\":\"healthy\"")]
    [InlineData("{\"status\":")]
    [InlineData("null")]
    public void TryParse_BadInput_ReturnsFalseWithoutThrowing(string json)
    {
        Assert.False(StatusDocumentJson.TryParse(json, out var document));
        Assert.Null(document);
    }

    [Theory]
    [InlineData("{\"status\":\"ok\",\"service\":\"\u00FF\"}")]
    [InlineData("{\"status\":\"\u00FF\"}")]
    [InlineData("{\"status\":\"ok\",\"dependencies\":{\"\u00FF\":\"healthy\"}}")]
    public void TryParse_InvalidUtf8InAString_ReturnsFalseWithoutThrowing(string template)
    {
        // U+00FF stands for a lone 0xFF byte, which is never valid UTF-8.
        var bytes = Encoding.Latin1.GetBytes(template);

        Assert.False(StatusDocumentJson.TryParse(bytes, out var document));
        Assert.Null(document);
    }

    [Fact]
    public void TryParse_DeeplyNestedJunk_ReturnsFalseWithoutThrowing()
    {
        var json = "{\"x\":" + new string('[', 5000) + new string(']', 5000) + ",\"status\":\"healthy\"}";
        Assert.False(StatusDocumentJson.TryParse(Encoding.UTF8.GetBytes(json), out _));
    }

    [Fact]
    public void TryParse_UnknownDependencyState_CountsAsUnhealthy()
    {
        Assert.True(StatusDocumentJson.TryParse("{\"status\":\"healthy\",\"dependencies\":{\"db\":{\"status\":\"??\",\"critical\":true},\"cache\":\"degraded\"}}", out var document));
        Assert.Equal(new DependencyStatus(HealthState.Unhealthy, true), document!.Dependencies["db"]);
        Assert.Equal(new DependencyStatus(HealthState.Degraded, false), document.Dependencies["cache"]);
    }
}
