namespace HealthProxy.Consul.Simulator;

/// <summary>A fault the simulator injects into its read endpoints (<c>/v1/health/service</c>, <c>/v1/catalog/services</c>).</summary>
public enum SimulatorFault
{
    /// <summary>Answer normally.</summary>
    None = 0,

    /// <summary>Answer 200 with a body that is not JSON.</summary>
    MalformedJson = 1,

    /// <summary>Answer 200 with a 10 MB JSON array.</summary>
    OversizedBody = 2,

    /// <summary>Answer 403 <c>Permission denied</c> whatever the token.</summary>
    Forbidden = 3,

    /// <summary>Answer 500 with a plain-text message.</summary>
    InternalError = 4,

    /// <summary>Answer 200 with valid JSON whose entries lack <c>Node</c> and <c>Service</c>.</summary>
    MissingFields = 5,
}
