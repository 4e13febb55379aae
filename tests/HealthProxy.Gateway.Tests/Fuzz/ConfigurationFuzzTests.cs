using System.ComponentModel;
using System.Globalization;
using CsCheck;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Tests.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Tests.Fuzz;

/// <summary>
/// Random values for HealthProxy's configuration keys. Each key has a model of what it accepts; the gateway
/// must start with every value the model accepts and refuse every other one with a message naming the key:
/// never an unnamed exception, never a silently accepted invalid value. CsCheck prints the seed of a failing case.
/// </summary>
public class ConfigurationFuzzTests
{
    private const int Iterations = 150;

    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>A configuration key, the values worth trying for it, and whether a value is valid.</summary>
    private sealed record Key(string Path, Gen<string> Values, Func<string, bool> IsValid)
    {
        public override string ToString() => Path;
    }

    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
        ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
        ["ReverseProxy:Clusters:orders:Destinations:a:Address"] = "http://127.0.0.1:1/",
        ["ReverseProxy:Clusters:orders:HealthCheck:Active:Enabled"] = "true",
    };

    private static readonly Gen<string> Junk = Gen.OneOf(
        Gen.String,
        Gen.OneOf("", " ", "abc", "-", "NaN", "Infinity", "-Infinity", "1e400", "0x10", "1,5", "１", "true", "null", "99999999999999999999", new string('9', 5000)));

    private static readonly Gen<string> Ints = Gen.OneOf(
        Gen.Int.Select(Invariant),
        Gen.Int[-5, 200].Select(Invariant),
        Gen.OneOf("0", "1", "2", "16", "100", "101", "1000", "1001", "10000", "10001", "100000", "100001", "1048576", "1048577", "2147483647", "-2147483648", " 5 ", "+7"),
        Junk);

    private static readonly Gen<string> Doubles = Gen.OneOf(
        Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
        Gen.Double[-2, 70].Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
        Gen.OneOf("0", "0.5", "0.999", "1", "1.0", "60", "60.0001", "-0", "1E-300", "NaN", "Infinity"),
        Junk);

    private static readonly Gen<string> Spans = Gen.OneOf(
        Gen.Long[TimeSpan.FromSeconds(-10).Ticks, TimeSpan.FromHours(3).Ticks].Select(t => TimeSpan.FromTicks(t).ToString("c", CultureInfo.InvariantCulture)),
        Gen.Long.Select(t => TimeSpan.FromTicks(t).ToString("c", CultureInfo.InvariantCulture)),
        Gen.OneOf("00:00:00", "00:00:00.0000001", "00:00:00.4", "00:00:00.5", "00:00:01", "00:00:05", "00:10:00", "00:10:00.0000001", "01:00:00", "01:00:00.0000001",
            "1.00:00:00", "1.00:00:00.0000001", "60.00:00:00", "10675199.02:48:05.4775807", "-10675199.02:48:05.4775808", "-00:00:01", "5", "24:00:00", "1:2:3:4:5"),
        Junk);

    private static readonly Gen<string> Words = Gen.OneOf(Gen.String, Gen.OneOf("Read", "write", "READ", "true", "True", "false", "FALSE", "yes", "1", "", " ", "payments", "a,b", "orders"), Junk);

    private static readonly string[] RetryConditionNames = ["5xx", "gateway-error", "reset", "connect-failure", "refused-stream", "retriable-status-codes"];

    private static readonly Gen<string> RetryOnLists = Gen.OneOf(
        Gen.Int[1, 4].SelectMany(n => Gen.OneOf(RetryConditionNames.Concat(["5XX", " reset ", "retry", ""]).ToArray()).Array[n]).Select(parts => string.Join(',', parts)),
        Gen.OneOf("5xx", "gateway-error,reset", "reset,,connect-failure", ",", "5xx;reset"));

    private static readonly Key[] Keys =
    [
        Probe("DefaultInterval", Spans, v => Span(v) is { } s && s > TimeSpan.Zero && s <= Hour),
        Probe("DefaultTimeout", Spans, v => Span(v) is { } s && s > TimeSpan.Zero && s <= Hour),
        Probe("UnhealthyThreshold", Ints, v => Int(v) is >= 1 and <= 100),
        Probe("HealthyThreshold", Ints, v => Int(v) is >= 1 and <= 100),
        Probe("UnhealthyIntervalFactor", Doubles, v => Double(v) is >= 1 and <= 60),
        Probe("Jitter", Doubles, v => Double(v) is >= 0 and < 1),
        Probe("MaxBodyBytes", Ints, v => Int(v) is >= 16 and <= 1024 * 1024),
        Probe("InitialConcurrency", Ints, v => Int(v) is >= 1 and <= 10000),
        Discovery("Wait", Spans, v => Span(v) is { } s && s > TimeSpan.Zero && s <= TimeSpan.FromMinutes(10)),
        Discovery("RetryMaxDelay", Spans, v => Span(v) is { } s && s >= TimeSpan.FromSeconds(1) && s <= Hour),
        Discovery("StaleAfter", Spans, v => Span(v) is { } s && s > TimeSpan.Zero),
        Discovery("StartupTimeout", Spans, v => Span(v) is { } s && s >= TimeSpan.Zero),
        Discovery("FallbackProbePath", Gen.OneOf(Gen.String, Gen.OneOf("/health", "health", "", " /x", "/")), v => !string.IsNullOrWhiteSpace(v) && v[0] == '/'),
        Discovery("FallbackProbeInterval", Spans, v => Span(v) is { } s && s > TimeSpan.Zero && s <= Hour),
        Outlier("ConsecutiveFailures", Ints, v => Int(v) is 0 or (>= 2 and <= 1000)),
        Outlier("MinimumThroughput", Ints, v => Int(v) is >= 2 and <= 100_000),
        Outlier("MaxEjectionPercent", Ints, v => Int(v) is >= 0 and <= 100),
        Outlier("BreakDuration", Spans, v => Span(v) is { } s && s >= TimeSpan.FromMilliseconds(500) && s <= TimeSpan.FromSeconds(300)),
        new("ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.ConsecutiveFailures", Ints, v => MetadataInt(v) is 0 or (>= 2 and <= 1000)),
        new("ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.FailureRatio", Doubles, v => MetadataDouble(v) is >= 0 and <= 1),
        new("ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.FailureStatusCodes", Gen.OneOf(Words, Gen.OneOf("500-599", "502,503", "99", "600", "503-500", "500-", "5xx")), v => HealthProxy.Gateway.Resilience.StatusCodeSet.TryParse(v, out _)),
        new("ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetryOn", Gen.OneOf(Words, RetryOnLists), IsRetryOn),
        new("ReverseProxy:Routes:orders:Metadata:HealthProxy.RetryOn", Gen.OneOf(Words, RetryOnLists), IsRetryOn),
        new("ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetriableStatusCodes", Gen.OneOf(Words, Gen.OneOf("500", "409,500-504", "399", "400-599", "100-599", "600", "5xx", "500,", ",")), v =>
            HealthProxy.Gateway.Resilience.StatusCodeSet.TryParse(v, out var set) && !Enumerable.Range(100, 300).Any(set.Contains)),
        new("ReverseProxy:Clusters:orders:Metadata:HealthProxy.MaxAttempts", Ints, v => MetadataInt(v) is >= 1 and <= 10),
        new("ReverseProxy:Routes:orders:Metadata:HealthProxy.PerTryTimeout", Spans, v =>
            TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var s) && s >= TimeSpan.FromMilliseconds(1) && s <= Hour),
        new("ReverseProxy:Routes:orders:Metadata:HealthProxy.IdempotentWrites", Words, v => bool.TryParse(v, out _)),
        new("HealthProxy:Retries:BackoffBaseDelay", Spans, v => Span(v) is { } s && s >= TimeSpan.Zero && s <= TimeSpan.FromMilliseconds(250)),
        new("HealthProxy:Retries:BackoffMaxDelay", Spans, v => Span(v) is { } s && s >= TimeSpan.FromMilliseconds(25) && s <= TimeSpan.FromSeconds(10)),
        new("ReverseProxy:Routes:orders:Metadata:HealthProxy.RequestKind", Words, v => v.Equals("read", StringComparison.OrdinalIgnoreCase) || v.Equals("write", StringComparison.OrdinalIgnoreCase)),
        new("ReverseProxy:Clusters:orders:Metadata:HealthProxy.Critical", Words, v => bool.TryParse(v, out _)),
        new("HealthProxy:Metrics:HttpClientMeter", Words, v => Convert<bool>(v) is not null),
        new("ReverseProxy:Clusters:orders:HealthCheck:Active:Interval", Spans, v => YarpSpan(v) is { } s && s > TimeSpan.Zero && s <= Hour),
        new("ReverseProxy:Clusters:orders:HealthCheck:Active:Timeout", Spans, v => YarpSpan(v) is { } s && s > TimeSpan.Zero && s <= Hour),
    ];

    [Fact]
    public void MapHealthProxy_RandomValueForAKey_StartsOrNamesTheKey() =>
        Gen.Int[0, Keys.Length - 1].SelectMany(i => Keys[i].Values.Select(v => (Keys[i], v)))
            .Sample((key, value) =>
            {
                var settings = new Dictionary<string, string?>(Valid) { [key.Path] = value };
                using var app = UnstartedGateway.Build(settings);
                var valid = key.IsValid(value);
                try
                {
                    app.MapHealthProxy();

                    // Options that only ValidateOnStart checks are resolved here, without starting the server.
                    foreach (var validator in app.Services.GetServices<IStartupValidator>())
                    {
                        validator.Validate();
                    }
                }
                catch (Exception ex) when (ex is GatewayConfigurationException or OptionsValidationException)
                {
                    Assert.False(valid, $"{key.Path}='{Shorten(value)}' is valid but was refused: {ex.Message}");
                    Assert.True(NamesKey(ex.Message, key.Path), $"{key.Path}='{Shorten(value)}' was refused without naming the key: {ex.Message}");
                    return;
                }

                Assert.False(!valid, $"{key.Path}='{Shorten(value)}' is invalid but was accepted");
            }, iter: Iterations, print: t => $"{t.Item1.Path}='{Shorten(t.Item2)}'");

    private static Key Probe(string name, Gen<string> values, Func<string, bool> isValid) =>
        new($"{ProbeOptions.SectionName}:{name}", values, isValid);

    private static Key Discovery(string name, Gen<string> values, Func<string, bool> isValid) =>
        new($"HealthProxy:Discovery:{name}", values, isValid);

    private static Key Outlier(string name, Gen<string> values, Func<string, bool> isValid) =>
        new($"HealthProxy:OutlierDetection:{name}", values, isValid);

    // The binder converts with the type's TypeConverter and the invariant culture.
    private static int? Int(string value) => Convert<int>(value);

    private static double? Double(string value) => Convert<double>(value);

    private static TimeSpan? Span(string value) => Convert<TimeSpan>(value);

    private static T? Convert<T>(string value)
        where T : struct
    {
        try
        {
            return (T?)TypeDescriptor.GetConverter(typeof(T)).ConvertFromInvariantString(value);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or NotSupportedException)
        {
            return null;
        }
    }

    // YARP parses its own keys with the constant ("c") format: "24:00:00" is not 24 days there.
    private static TimeSpan? YarpSpan(string value)
    {
        try
        {
            return TimeSpan.ParseExact(value, "c", CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            return null;
        }
    }

    // Metadata is parsed by HealthProxy itself, with the invariant culture.
    // A comma list of known names (any case, blanks around them, empty entries ignored); retriable-status-codes needs codes, none are set.
    private static bool IsRetryOn(string value)
    {
        var parts = value.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
        return parts.Count > 0
            && parts.All(p => RetryConditionNames.Contains(p, StringComparer.OrdinalIgnoreCase))
            && !parts.Contains("retriable-status-codes", StringComparer.OrdinalIgnoreCase);
    }

    private static int? MetadataInt(string value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static double? MetadataDouble(string value) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    /// <summary>The full key, or (for a rule between two keys) its section and its name as a word.</summary>
    private static bool NamesKey(string message, string path)
    {
        var leaf = path.LastIndexOf(':');
        return message.Contains(path, StringComparison.Ordinal)
            || (message.Contains(path[..(leaf + 1)], StringComparison.Ordinal) && message.Contains(" " + path[(leaf + 1)..] + " ", StringComparison.Ordinal));
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Shorten(string value) => value.Length > 60 ? value[..60] + $"...({value.Length} chars)" : value;
}
