namespace HealthProxy.Bench;
internal static class ScaleBench
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);
}
