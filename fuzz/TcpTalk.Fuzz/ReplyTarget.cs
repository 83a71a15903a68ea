using System.Globalization;
using System.Text;
using TcpTalk.Client;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// Fuzzes what the client does with the bytes a (possibly hostile) server sends: <see cref="FrameReader"/> over reads
/// of random sizes must return the frames <see cref="ReferenceSplitter"/> finds, then null, or
/// <see cref="MessageTooLongException"/> exactly when the reference says too long (<see cref="MalformedFrameException"/>
/// exactly when it says malformed, in the length-prefixed framings); each frame then goes through
/// <see cref="ServerReply.TryParseError"/> (the sentence must be safe to print) and <see cref="ServerReply.TryParseAck"/>
/// (the id must be positive and be what the digits say).
/// </summary>
internal static class ReplyTarget
{
    public static void Run(byte[] data)
    {
        var input = new FuzzInput(data, countedFramings: true);
        var expected = input.Reference();
        var reader = new FrameReader(new ChunkedStream(input.Chunks()), input.CreateFramer());
        var frames = new List<byte[]>();
        bool tooLong = false;
        bool malformed = false;
        try
        {
            // Bounded: every frame consumes at least one byte, and the reference has as many as there are.
            for (int i = 0; i <= expected.Messages.Count + 1; i++)
            {
                var pending = reader.ReadFrameAsync(CancellationToken.None);
                InvariantViolationException.Check(pending.IsCompleted, "ReadFrameAsync did not complete over a stream that never waits", data);
                if (pending.Result is not { } frame)
                {
                    break;
                }

                frames.Add(frame);
                Interpret(frame, data);
            }
        }
        catch (MessageTooLongException e)
        {
            InvariantViolationException.Check(e.Limit == input.Limit, $"too-long error names limit {e.Limit}, not {input.Limit}", data);
            tooLong = true;
        }
        catch (MalformedFrameException)
        {
            malformed = true;
        }

        var actual = new Split(frames, tooLong, malformed);
        InvariantViolationException.Check(actual.SameAs(expected),
            $"{input.Mode} limit {input.Limit}: FrameReader read {actual}, reference {expected}", data);
    }

    private static void Interpret(byte[] frame, byte[] data)
    {
        if (ServerReply.TryParseError(frame, out string sentence))
        {
            EscapedText.CheckSafe(sentence, "error sentence", data);
            InvariantViolationException.Check(frame.AsSpan().StartsWith("error: "u8), "an error frame without the 'error: ' prefix", data);
        }
        else if (ServerReply.TryParseAck(frame, out long id))
        {
            string digits = Encoding.Latin1.GetString(frame, 4, frame.Length - 4);
            bool plain = long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value);
            InvariantViolationException.Check(frame.AsSpan().StartsWith("ack "u8) && id > 0 && plain && value == id,
                $"ack frame '{digits}' parsed as id {id}", data);
        }
    }

    /// <summary>A stream that returns the given reads in order, each at most as large as the reader asks for; then EOF.</summary>
    private sealed class ChunkedStream(List<byte[]> chunks) : Stream
    {
        private int _chunk;
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            // A read of 0 means end of stream, so empty reads of the cut are skipped.
            while (_chunk < chunks.Count && _offset == chunks[_chunk].Length)
            {
                _chunk++;
                _offset = 0;
            }

            if (_chunk == chunks.Count || buffer.IsEmpty)
            {
                return 0;
            }

            int count = Math.Min(buffer.Length, chunks[_chunk].Length - _offset);
            chunks[_chunk].AsSpan(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
