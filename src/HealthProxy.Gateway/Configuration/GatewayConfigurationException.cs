namespace HealthProxy.Gateway.Configuration;

/// <summary>The configuration cannot be used. The message names each offending key.</summary>
public sealed class GatewayConfigurationException : Exception
{
    /// <summary>Creates the exception for one or more problems, each naming its key.</summary>
    public GatewayConfigurationException(IReadOnlyList<string> problems)
        : base("Invalid HealthProxy configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception for one problem.</summary>
    public GatewayConfigurationException(string problem)
        : this([problem])
    {
    }

    /// <summary>Creates an empty exception; prefer the constructors that name the key.</summary>
    public GatewayConfigurationException()
        : this(Array.Empty<string>())
    {
    }

    /// <summary>Wraps another exception.</summary>
    public GatewayConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Each problem, naming its configuration key.</summary>
    public IReadOnlyList<string> Problems { get; } = [];
}
