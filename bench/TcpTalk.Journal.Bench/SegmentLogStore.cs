using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using TcpTalk.Messages;

/// <summary>
/// Design B: an append-only segment log of our own, Kafka-like. Each record is [u32 body length][u32 CRC-32C of
/// the body][body]; a connection record carries the endpoints once, a batch record carries first id, receive time,
/// connection ref, count, varint lengths and the bytes. One write(2) per commit group (Normal: the page cache holds
/// it, so a killed process loses nothing); Full adds one fsync per group. A sparse index file gets (first id, receive
/// time, offset) every 64 KiB of log. Segments roll at 1 GiB.
/// </summary>
internal sealed class SegmentLogStore : IStoreDesign
{
    private const long SegmentBytes = 1L << 30;
    private const int IndexEvery = 64 * 1024;
    private readonly string _folder;
    private readonly bool _full;
    private readonly ConditionalWeakTable<ConnectionInfo, StrongBox<uint>> _connections = new();
    private FileStream _log = null!;
    private FileStream _index = null!;
    private byte[] _buffer = new byte[1 << 20];
    private readonly byte[] _indexBuffer = new byte[24 * 1024];
    private int _used;
    private int _indexUsed;
    private long _segmentOffset;
    private long _lastIndexed = -IndexEvery;
    private long _nextId = 1;
    private uint _nextConnection = 1;

    public SegmentLogStore(string folder, bool full)
    {
        _folder = folder;
        _full = full;
        Directory.CreateDirectory(folder);
        Roll();
    }

    public void Commit(MessageBatch[] group)
    {
        foreach (var batch in group)
        {
            uint connection = ConnectionRef(batch);
            AppendBatch(batch, connection);
        }

        _log.Write(_buffer, 0, _used);
        _segmentOffset += _used;
        _used = 0;
        if (_indexUsed > 0)
        {
            _index.Write(_indexBuffer, 0, _indexUsed);
            _indexUsed = 0;
        }

        if (_full)
        {
            _log.Flush(flushToDisk: true);
        }

        if (_segmentOffset >= SegmentBytes)
        {
            Roll();
        }
    }

    public void Dispose()
    {
        _log.Dispose();
        _index.Dispose();
    }

    private void AppendBatch(MessageBatch batch, uint connection)
    {
        long offset = _segmentOffset + _used;
        if (offset - _lastIndexed >= IndexEvery && _indexUsed + 24 <= _indexBuffer.Length)
        {
            var entry = _indexBuffer.AsSpan(_indexUsed, 24);
            BinaryPrimitives.WriteInt64LittleEndian(entry, _nextId);
            BinaryPrimitives.WriteInt64LittleEndian(entry[8..], batch.ReceivedAt.ToUnixTimeMilliseconds() * 1000);
            BinaryPrimitives.WriteInt64LittleEndian(entry[16..], offset);
            _indexUsed += 24;
            _lastIndexed = offset;
        }

        int worst = 8 + 1 + 8 + 8 + 4 + 4 + batch.Count * 5;
        for (int i = 0; i < batch.Count; i++)
        {
            worst += batch[i].Length;
        }

        EnsureRoom(worst);
        int start = _used;
        var body = _buffer.AsSpan(start + 8);
        body[0] = 2;
        BinaryPrimitives.WriteInt64LittleEndian(body[1..], _nextId);
        BinaryPrimitives.WriteInt64LittleEndian(body[9..], batch.ReceivedAt.ToUnixTimeMilliseconds() * 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(body[17..], connection);
        BinaryPrimitives.WriteInt32LittleEndian(body[21..], batch.Count);
        int n = 25;
        for (int i = 0; i < batch.Count; i++)
        {
            n += WriteVarint(body[n..], (uint)batch[i].Length);
        }

        for (int i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            message.CopyTo(body[n..]);
            n += message.Length;
        }

        Seal(start, n);
        _nextId += batch.Count;
    }

    private uint ConnectionRef(MessageBatch batch)
    {
        if (_connections.TryGetValue(batch.Connection, out var known))
        {
            return known.Value;
        }

        var c = batch.Connection;
        uint id = _nextConnection++;
        string text = $"{c.Id} {c.Local} {c.Remote} {batch.Encoding.CodePage}";
        EnsureRoom(8 + 5 + text.Length * 3);
        int start = _used;
        var body = _buffer.AsSpan(start + 8);
        body[0] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(body[1..], id);
        int n = 5 + Encoding.UTF8.GetBytes(text, body[5..]);
        Seal(start, n);
        _connections.Add(c, new StrongBox<uint>(id));
        return id;
    }

    private void Seal(int start, int bodyLength)
    {
        var header = _buffer.AsSpan(start, 8);
        BinaryPrimitives.WriteInt32LittleEndian(header, bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32C.Compute(_buffer.AsSpan(start + 8, bodyLength)));
        _used = start + 8 + bodyLength;
    }

    private void EnsureRoom(int more)
    {
        if (_used + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_used + more, _buffer.Length * 2));
        }
    }

    private void Roll()
    {
        _log?.Dispose();
        _index?.Dispose();
        string name = _nextId.ToString("D20", System.Globalization.CultureInfo.InvariantCulture);
        _log = new FileStream(Path.Combine(_folder, name + ".log"), FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _index = new FileStream(Path.Combine(_folder, name + ".idx"), FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _segmentOffset = 0;
        _lastIndexed = -IndexEvery;
    }

    private static int WriteVarint(Span<byte> to, uint value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            to[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        to[n++] = (byte)value;
        return n;
    }
}
