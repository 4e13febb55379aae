using System.Text;
using HealthProxy.Consul;
using HealthProxy.Consul.Api;
using HealthProxy.Consul.Discovery;
using HealthProxy.Gateway.Health;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Tests.Health;

public class ProbeResponseParserTests
{
    [Theory]
    [InlineData(200, "{\"status\":\"healthy\"}", HealthState.Healthy)]
    [InlineData(200, "{\"status\":\"ready\"}", HealthState.Healthy)]
    [InlineData(200, "{\"status\":\"alive\"}", HealthState.Healthy)]
    [InlineData(200, "{\"status\":\"OK\"}", HealthState.Healthy)]
    [InlineData(200, "{\"status\":\"up\"}", HealthState.Healthy)]
    [InlineData(200, "{\"status\":\"degraded\"}", HealthState.Degraded)]
    [InlineData(200, "{\"status\":\"Unhealthy\"}", HealthState.Unhealthy)]
    [InlineData(503, "{\"status\":\"starting\"}", HealthState.Starting)]
    [InlineData(503, "{\"status\":\"draining\"}", HealthState.Draining)]
    [InlineData(503, "{\"status\":\"degraded\"}", HealthState.Degraded)]
    [InlineData(200, "  {\"status\":\"draining\", \"dependencies\": {\"db\": {\"status\": \"healthy\"}}}\n", HealthState.Draining)]
    public void Parse_JsonStatus_WinsWhateverTheCode(int code, string body, HealthState expected)
    {
        Assert.Equal(expected, ProbeResponseParser.Parse(code, Encoding.UTF8.GetBytes(body)));
    }

    [Theory]
    [InlineData(200, "Healthy", HealthState.Healthy)]
    [InlineData(200, "Degraded", HealthState.Degraded)]
    [InlineData(503, "Unhealthy", HealthState.Unhealthy)]
    [InlineData(200, "Unhealthy\n", HealthState.Unhealthy)]
    public void Parse_AspNetCorePlainText_ReadsTheWord(int code, string body, HealthState expected)
    {
        Assert.Equal(expected, ProbeResponseParser.Parse(code, Encoding.UTF8.GetBytes(body)));
    }

    [Theory]
    [InlineData(200, "", HealthState.Healthy)]
    [InlineData(204, "", HealthState.Healthy)]
    [InlineData(200, "pong", HealthState.Healthy)]
    [InlineData(200, "{\"status\":\"sideways\"}", HealthState.Healthy)]
    [InlineData(200, "{not json", HealthState.Healthy)]
    [InlineData(500, "{\"status\":\"sideways\"}", HealthState.Unhealthy)]
    [InlineData(503, "", HealthState.Unhealthy)]
    [InlineData(404, "<html>not found</html>", HealthState.Unhealthy)]
    [InlineData(302, "", HealthState.Unhealthy)]
    [InlineData(429, "", HealthState.Degraded)]
    [InlineData(429, "Too Many Requests", HealthState.Degraded)]
    public void Parse_NoUsableStatus_FallsBackToTheCode(int code, string body, HealthState expected)
    {
        Assert.Equal(expected, ProbeResponseParser.Parse(code, Encoding.UTF8.GetBytes(body), out var declared));
        Assert.False(declared);
    }

    [Theory]
    [InlineData(503, "{\"status\":\"unhealthy\"}")]
    [InlineData(503, "Unhealthy")]
    public void Parse_InstanceSaysUnhealthy_IsDeclared(int code, string body)
    {
        Assert.Equal(HealthState.Unhealthy, ProbeResponseParser.Parse(code, Encoding.UTF8.GetBytes(body), out var declared));
        Assert.True(declared);
    }

    [Theory]
    [InlineData(200, "passing")]
    [InlineData(204, "passing")]
    [InlineData(299, "passing")]
    [InlineData(429, "warning")]
    [InlineData(302, "critical")]
    [InlineData(404, "critical")]
    [InlineData(500, "critical")]
    [InlineData(503, "critical")]
    public void Parse_BareStatusCode_MeansWhatConsulsHttpCheckMakesOfIt(int code, string consulStatus)
    {
        // Consul's HTTP checks give the code a status; Consul discovery maps that status to a state. A probe
        // that sees the same code must land on the same state, so 429 means one thing wherever it is seen.
        var viaConsul = ConsulInstanceMapper.StateFromChecks([new ConsulHealthCheck { CheckID = "service:web", Status = consulStatus }]);

        Assert.Equal(consulStatus, ConsulHttpCheckRule.StatusFor(code).ToWireName());
        Assert.Equal(viaConsul, ProbeResponseParser.Parse(code, default));
    }

    [Fact]
    public void Parse_BinaryGarbage_DoesNotThrow()
    {
        var random = new Random(42);
        for (var i = 0; i < 2000; i++)
        {
            var body = new byte[random.Next(0, 64)];
            random.NextBytes(body);
            if (body.Length > 0 && random.Next(2) == 0)
            {
                body[0] = (byte)'{';
            }

            var state = ProbeResponseParser.Parse(200, body);
            Assert.True(Enum.IsDefined(state));
        }
    }
}
