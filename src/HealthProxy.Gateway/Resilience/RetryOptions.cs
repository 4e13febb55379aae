namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// Safe retries of failed requests on another destination, bounded per cluster by a retry budget
/// (Linkerd's and Finagle's design). Bound from <c>HealthProxy:Retries</c>.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Retries";

    /// <summary>Whether safe retries are made at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Retries allowed per original request over the window. Default 0.2 (at most 20% more load).</summary>
    public double BudgetRatio { get; set; } = 0.2;

    /// <summary>Retries allowed per second whatever the traffic, so a quiet cluster can still retry. Default 3.</summary>
    public int MinRetriesPerSecond { get; set; } = 3;

    /// <summary>The sliding window the budget counts over. Default 10 s.</summary>
    public TimeSpan BudgetWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first retry waits up to this long (a uniform draw from zero); each further retry's ceiling doubles. Default 25 ms; 0 turns backoff off.</summary>
    public TimeSpan BackoffBaseDelay { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>The cap on a retry's backoff. Default 250 ms.</summary>
    public TimeSpan BackoffMaxDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Every problem with these options, each naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (!(BudgetRatio >= 0 && BudgetRatio <= 1))
        {
            yield return $"{SectionName}:{nameof(BudgetRatio)} must be between 0 and 1 (got {BudgetRatio}).";
        }

        if (MinRetriesPerSecond is < 0 or > 10_000)
        {
            yield return $"{SectionName}:{nameof(MinRetriesPerSecond)} must be between 0 and 10000 (got {MinRetriesPerSecond}).";
        }

        if (BudgetWindow < TimeSpan.FromSeconds(1) || BudgetWindow > TimeSpan.FromMinutes(10))
        {
            yield return $"{SectionName}:{nameof(BudgetWindow)} must be between 00:00:01 and 00:10:00 (got {BudgetWindow}).";
        }

        if (BackoffBaseDelay < TimeSpan.Zero || BackoffBaseDelay > TimeSpan.FromSeconds(10))
        {
            yield return $"{SectionName}:{nameof(BackoffBaseDelay)} must be between 00:00:00 and 00:00:10 (got {BackoffBaseDelay}).";
        }

        if (BackoffMaxDelay > TimeSpan.FromSeconds(10))
        {
            yield return $"{SectionName}:{nameof(BackoffMaxDelay)} must be at most 00:00:10 (got {BackoffMaxDelay}).";
        }
        else if (BackoffMaxDelay < BackoffBaseDelay)
        {
            yield return $"{SectionName}:{nameof(BackoffMaxDelay)} ({BackoffMaxDelay}) must not be shorter than {SectionName}:{nameof(BackoffBaseDelay)} ({BackoffBaseDelay}).";
        }
    }
}
