namespace TcpTalk.Protocol;

/// <summary>Durations in the sentences TcpTalk shows people: <c>5 s</c>, <c>1.5 s</c>, <c>300 ms</c>.</summary>
public static class DurationText
{
    /// <summary>Seconds (up to three decimals) from one second up, whole milliseconds below.</summary>
    public static string Format(TimeSpan time) =>
        time.TotalSeconds >= 1
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.###} s")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0} ms");
}
