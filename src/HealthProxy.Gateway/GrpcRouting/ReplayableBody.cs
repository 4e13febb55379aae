using System.Buffers;

namespace HealthProxy.Gateway.GrpcRouting;

/// <summary>
/// A request body that can be sent again: it passes the client's body through as the forwarder reads it and keeps a
/// copy of what was read, up to <see cref="Limit"/> bytes. <see cref="Rewind"/> makes the next reader get the kept
/// bytes first, then the rest of the client's body. Once more than the limit was read nothing more is kept and
/// <see cref="CanReplay"/> is false: the request is then as unrepeatable as any streamed body.
/// </summary>
/// <remarks>
/// Installed only on gRPC calls that a retry could send again (reads, and <c>IDEMPOTENT</c> writes), so a unary
/// call whose response says UNAVAILABLE before anything reached the client can go to another instance. The copy is
/// in a pooled buffer, returned when the request ends (it is registered for disposal with the response).
/// </remarks>
internal sealed class ReplayableBody(Stream inner) : Stream
{
    /// <summary>The most bytes kept for a replay: a unary gRPC request message is usually far smaller.</summary>
    public const int Limit = 64 * 1024;

    private byte[]? _kept;
    private int _length;
    private int _replayPosition = -1;
    private bool _overflowed;

    /// <summary>Whether everything read so far was kept, so the body can be sent again.</summary>
    public bool CanReplay => !_overflowed;

    /// <summary>The bytes kept so far.</summary>
    public int KeptLength => _length;

    /// <summary>Makes the next reads return the kept bytes from the start, then continue with the client's body.</summary>
    public void Rewind()
    {
        if (_overflowed)
        {
            throw new InvalidOperationException("The body was larger than the replay limit and cannot be sent again.");
        }

        _replayPosition = 0;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_replayPosition >= 0 && _replayPosition < _length)
        {
            var count = Math.Min(buffer.Length, _length - _replayPosition);
            _kept.AsSpan(_replayPosition, count).CopyTo(buffer.Span);
            _replayPosition += count;
            return count;
        }

        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Keep(buffer.Span[..read]);
        if (_replayPosition >= 0)
        {
            _replayPosition = _length;
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || _overflowed)
        {
            return;
        }

        if (_length + data.Length > Limit)
        {
            _overflowed = true;
            Release();
            return;
        }

        if (_kept is null || _kept.Length < _length + data.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + data.Length, Math.Min(Limit, 4096)));
            _kept?.AsSpan(0, _length).CopyTo(larger);
            if (_kept is not null)
            {
                ArrayPool<byte>.Shared.Return(_kept);
            }

            _kept = larger;
        }

        data.CopyTo(_kept.AsSpan(_length));
        _length += data.Length;
    }

    private void Release()
    {
        if (_kept is not null)
        {
            ArrayPool<byte>.Shared.Return(_kept);
            _kept = null;
        }

        _length = 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
        }

        base.Dispose(disposing);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
