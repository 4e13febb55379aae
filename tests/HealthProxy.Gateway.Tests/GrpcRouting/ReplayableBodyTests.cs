using HealthProxy.Gateway.GrpcRouting;

namespace HealthProxy.Gateway.Tests.GrpcRouting;

public class ReplayableBodyTests
{
    [Fact]
    public async Task Rewind_AfterAWholeRead_ReplaysTheSameBytes()
    {
        var data = Bytes(10_000);
        using var body = new ReplayableBody(new MemoryStream(data));

        Assert.Equal(data, await ReadAllAsync(body, 777));
        body.Rewind();
        Assert.Equal(data, await ReadAllAsync(body, 4096));
        body.Rewind();
        Assert.Equal(data, await ReadAllAsync(body, 1));
    }

    [Fact]
    public async Task Rewind_AfterAPartialRead_ReplaysWhatWasReadThenContinues()
    {
        var data = Bytes(5_000);
        using var body = new ReplayableBody(new MemoryStream(data));
        var first = new byte[1_000];
        Assert.Equal(1_000, await body.ReadAsync(first));

        body.Rewind();

        Assert.Equal(data, await ReadAllAsync(body, 300));
        Assert.Equal(5_000, body.KeptLength);
    }

    [Fact]
    public async Task Rewind_BeforeAnyRead_ReadsTheClientsBody()
    {
        var data = Bytes(100);
        using var body = new ReplayableBody(new MemoryStream(data));

        body.Rewind();

        Assert.Equal(data, await ReadAllAsync(body, 64));
    }

    [Fact]
    public async Task OverTheLimit_NothingKept_CannotReplay()
    {
        using var body = new ReplayableBody(new MemoryStream(Bytes(ReplayableBody.Limit + 1)));

        await ReadAllAsync(body, 8192);

        Assert.False(body.CanReplay);
        Assert.Equal(0, body.KeptLength);
        Assert.Throws<InvalidOperationException>(body.Rewind);
    }

    [Fact]
    public async Task AtTheLimit_StillReplays()
    {
        var data = Bytes(ReplayableBody.Limit);
        using var body = new ReplayableBody(new MemoryStream(data));

        await ReadAllAsync(body, 8192);
        body.Rewind();

        Assert.True(body.CanReplay);
        Assert.Equal(data, await ReadAllAsync(body, 8192));
    }

    private static byte[] Bytes(int count) => Enumerable.Range(0, count).Select(i => (byte)(i * 31)).ToArray();

    private static async Task<byte[]> ReadAllAsync(Stream stream, int chunk)
    {
        var result = new MemoryStream();
        var buffer = new byte[chunk];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            result.Write(buffer, 0, read);
        }

        return result.ToArray();
    }
}
