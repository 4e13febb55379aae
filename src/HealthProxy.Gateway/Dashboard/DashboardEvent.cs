namespace HealthProxy.Gateway.Dashboard;

/// <summary>One line of the dashboard's recent events.</summary>
/// <param name="At">When the gateway saw it.</param>
/// <param name="Kind">transition, ejection, fallback, cascade or recovered.</param>
/// <param name="Subject">The cluster (and destination) it concerns.</param>
/// <param name="Text">What happened, in words.</param>
internal sealed record DashboardEvent(DateTimeOffset At, string Kind, string Subject, string Text);
