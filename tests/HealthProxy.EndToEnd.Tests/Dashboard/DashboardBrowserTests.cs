using HealthProxy.Health;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace HealthProxy.EndToEnd.Tests.Dashboard;

/// <summary>
/// The dashboard in headless Chromium (Debian's <c>chromium</c> package, never a downloaded browser):
/// open it with the token, watch a state change arrive without a reload, and be refused without it.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IDisposable
{
    private const string Token = "s3cret-browser-token";

    /// <summary>Where Chromium is; <c>HEALTHPROXY_CHROMIUM</c> overrides.</summary>
    private static readonly string ChromiumPath = Environment.GetEnvironmentVariable("HEALTHPROXY_CHROMIUM") ?? "/usr/bin/chromium";

    private readonly List<Backend> _backends = [];
    private readonly string _profile = Directory.CreateTempSubdirectory("healthproxy-chromium-").FullName;

    [Fact]
    public async Task Dashboard_InstanceChangesState_PageUpdatesWithoutReload()
    {
        var payment = Add("payment-a");
        var shop = Add("shop-a");
        await using var gateway = await GatewayHost.StartAsync(Settings(payment, shop));
        await gateway.WaitForStatesAsync("payment", ("payment-a", HealthState.Healthy));
        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync();
        var baseUrl = gateway.Client.BaseAddress!.ToString().TrimEnd('/');

        var response = await page.GotoAsync(baseUrl + "/dashboard?token=" + Token);

        Assert.Equal(200, response?.Status);
        Assert.Equal(baseUrl + "/dashboard", page.Url); // the token left the address bar
        var paymentState = page.Locator("tr[data-instance='payment/payment-a'] .state");
        await Assertions.Expect(paymentState).ToHaveTextAsync("healthy");
        await Assertions.Expect(page.Locator("#overall")).ToContainTextAsync("Overall: healthy");
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("live");
        await page.EvaluateAsync("() => { window.notReloaded = true; }");

        payment.SetState("unhealthy", 503);

        var timeout = new LocatorAssertionsToHaveTextOptions { Timeout = (float)Testing.Eventually.DefaultTimeout.TotalMilliseconds };
        await Assertions.Expect(paymentState).ToHaveTextAsync("unhealthy", timeout);
        await Assertions.Expect(page.Locator("#cascades")).ToContainTextAsync("Cascading failure: payment", new() { Timeout = timeout.Timeout });
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("payment/payment-a", new() { Timeout = timeout.Timeout });
        await Assertions.Expect(page.Locator("#graph li", new() { HasText = "storefront" })).ToContainTextAsync("affected by payment");
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was not reloaded");

        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        output.WriteLine("Dashboard screenshot: " + screenshot);
    }

    [Fact]
    public async Task Dashboard_WithoutToken_PageRefused()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(Add("payment-a"), Add("shop-a")));
        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync();
        var baseUrl = gateway.Client.BaseAddress!.ToString().TrimEnd('/');

        var response = await page.GotoAsync(baseUrl + "/dashboard");

        Assert.Equal(401, response?.Status);
        Assert.Equal(0, await page.Locator("#instances").CountAsync());
        Assert.Equal(401, (await page.GotoAsync(baseUrl + "/dashboard?token=wrong"))?.Status);
    }

    [Fact]
    public async Task Dashboard_GatewayRestarts_PageReconnectsAndShowsTheNewState()
    {
        var payment = Add("payment-a");
        var shop = Add("shop-a");
        var url = "http://127.0.0.1:" + FreePort();
        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync();
        var paymentState = page.Locator("tr[data-instance='payment/payment-a'] .state");
        await using (var first = await GatewayHost.StartAsync(Settings(payment, shop), url: url))
        {
            await first.WaitForStatesAsync("payment", ("payment-a", HealthState.Healthy));
            await page.GotoAsync(url + "/dashboard?token=" + Token);
            await Assertions.Expect(paymentState).ToHaveTextAsync("healthy");
            await page.EvaluateAsync("() => { window.notReloaded = true; }");
        }

        await Assertions.Expect(page.Locator("#connection")).Not.ToHaveTextAsync("live");
        payment.SetState("unhealthy", 503);
        await using var second = await GatewayHost.StartAsync(Settings(payment, shop), url: url);

        var timeout = (float)Testing.Eventually.DefaultTimeout.TotalMilliseconds;
        await Assertions.Expect(paymentState).ToHaveTextAsync("unhealthy", new() { Timeout = timeout });
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("live", new() { Timeout = timeout });
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was not reloaded");
    }

    [Fact]
    public async Task Dashboard_ThousandInstancesAllChange_PageKeepsUpAndStaysResponsive()
    {
        const int Instances = 1000;
        var backend = Add("shared");
        var settings = GatewaySettings.For([], TimeSpan.FromSeconds(2));
        settings["HealthProxy:Security:DetailedToken"] = Token;
        settings["HealthProxy:Probes:UnhealthyThreshold"] = "1";
        for (var i = 0; i < Instances; i++)
        {
            settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Destinations:i{i:D4}:Address"] = backend.Url;
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.AddInitScriptAsync("new PerformanceObserver(list => { for (const e of list.getEntries()) window.longestTask = Math.max(window.longestTask || 0, e.duration); }).observe({ type: 'longtask', buffered: true });");
        var timeout = (float)TimeSpan.FromSeconds(30).TotalMilliseconds;
        await page.GotoAsync(gateway.Client.BaseAddress + "dashboard?token=" + Token);
        var healthy = page.Locator("#instances tr[data-instance] .state[data-state='healthy']");
        await Assertions.Expect(healthy).ToHaveCountAsync(Instances, new() { Timeout = timeout });
        var started = DateTime.UtcNow;

        backend.SetState("unhealthy", 503);

        var unhealthy = page.Locator("#instances tr[data-instance] .state[data-state='unhealthy']");
        await Assertions.Expect(unhealthy).ToHaveCountAsync(Instances, new() { Timeout = timeout });
        output.WriteLine($"{Instances} instances turned unhealthy on the page {(DateTime.UtcNow - started).TotalSeconds:F1} s after the backend did (probe interval 2 s).");

        // A render that froze the page shows as a long task (Chromium reports main-thread tasks over 50 ms).
        var probe = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(Instances, await page.EvaluateAsync<int>("() => document.querySelectorAll('#instances tr[data-instance]').length"));
        var longest = await page.EvaluateAsync<double>("() => window.longestTask || 0");
        output.WriteLine($"main thread answered in {probe.ElapsedMilliseconds} ms; longest main-thread task since load: {longest:F0} ms");
        Assert.True(longest < 2000, $"the page's main thread was blocked for {longest:F0} ms");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Three clusters, storefront → checkout → payment, so a failing payment has a blast radius.</summary>
    private static Dictionary<string, string?> Settings(Backend payment, Backend shop)
    {
        var settings = new Dictionary<string, string?>
        {
            ["HealthProxy:Probes:UnhealthyThreshold"] = "1",
            ["HealthProxy:Security:DetailedToken"] = Token,
        };
        foreach (var (cluster, dependsOn) in new[] { ("payment", ""), ("checkout", "payment"), ("storefront", "checkout") })
        {
            settings[$"ReverseProxy:Routes:{cluster}:ClusterId"] = cluster;
            settings[$"ReverseProxy:Routes:{cluster}:Match:Path"] = $"/{cluster}/{{**rest}}";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Enabled"] = "true";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Interval"] = "00:00:00.200";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Timeout"] = "00:00:01";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Path"] = Backend.HealthPath;
            settings[$"ReverseProxy:Clusters:{cluster}:Metadata:HealthProxy.Category"] = cluster == "storefront" ? "shop" : "payments";
            settings[$"ReverseProxy:Clusters:{cluster}:Metadata:HealthProxy.DependsOn"] = dependsOn;
            var backend = cluster == "payment" ? payment : shop;
            settings[$"ReverseProxy:Clusters:{cluster}:Destinations:{backend.Name}:Address"] = backend.Url;
        }

        return settings;
    }

    private async Task<Browser> LaunchAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"Chromium not found at {ChromiumPath}: install Debian's chromium package (apt-get install -y chromium) or set HEALTHPROXY_CHROMIUM.");
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var context = await playwright.Chromium.LaunchPersistentContextAsync(_profile, new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new Browser(playwright, context);
    }

    private Backend Add(string name)
    {
        var backend = Backend.Start(name);
        _backends.Add(backend);
        return backend;
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }

        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be letting go of its profile; it is a temp folder.
        }
    }

    /// <summary>Playwright and one browser context with a fresh, empty profile, disposed together.</summary>
    private sealed class Browser(IPlaywright playwright, IBrowserContext context) : IAsyncDisposable
    {
        public Task<IPage> NewPageAsync() => context.NewPageAsync();

        public async ValueTask DisposeAsync()
        {
            await context.CloseAsync();
            playwright.Dispose();
        }
    }
}
