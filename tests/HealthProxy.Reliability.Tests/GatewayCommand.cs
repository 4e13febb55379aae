using System.Diagnostics;

namespace HealthProxy.Reliability.Tests;

/// <summary>How the reliability tests start the gateway as a process of its own.</summary>
internal static class GatewayCommand
{
    /// <summary>
    /// <c>dotnet HealthProxy.Gateway.dll --contentRoot <paramref name="contentRoot"/></c> (the build beside the tests),
    /// in Production, with both output streams redirected; callers add their own environment.
    /// </summary>
    public static ProcessStartInfo For(string contentRoot)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = contentRoot,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HealthProxy.Gateway.dll"));
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(contentRoot);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        return start;
    }
}
