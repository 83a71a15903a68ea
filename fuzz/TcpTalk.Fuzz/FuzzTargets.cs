namespace TcpTalk.Fuzz;

/// <summary>The fuzz targets by name. Each takes any byte string and throws only when it finds a bug.</summary>
public static class FuzzTargets
{
    /// <summary>Name to entry function: <c>framer</c>, <c>text</c>, <c>reply</c>, <c>inputs</c>, <c>proxy</c>, <c>batchrow</c> (the journal's record reader).</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["framer"] = FramerTarget.Run,
        ["text"] = TextTarget.Run,
        ["reply"] = ReplyTarget.Run,
        ["inputs"] = InputsTarget.Run,
        ["proxy"] = ProxyTarget.Run,
        ["batchrow"] = BatchRowTarget.Run,
    };

    /// <summary>The encodings the <c>text</c> target decodes with, by name.</summary>
    public static IReadOnlyList<string> TextEncodings => TextTarget.EncodingNames;
}
