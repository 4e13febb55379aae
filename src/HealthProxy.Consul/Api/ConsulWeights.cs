namespace HealthProxy.Consul.Api;

/// <summary>A service's DNS weights: <see cref="Passing"/> when its aggregated status is passing, <see cref="Warning"/> when warning.</summary>
public sealed record ConsulWeights
{
    /// <summary>The weight while passing (≥1).</summary>
    public int Passing { get; init; }

    /// <summary>The weight while warning (0 = no traffic).</summary>
    public int Warning { get; init; }
}
