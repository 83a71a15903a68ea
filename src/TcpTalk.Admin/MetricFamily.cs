using System.Collections.Concurrent;
using System.Text;

namespace TcpTalk.Admin;

/// <summary>What a family aggregates: how a measurement changes a series and which Prometheus type it is shown as.</summary>
internal enum FamilyKind
{
    /// <summary>Counter: measurements are added; shown as counter.</summary>
    Sum,

    /// <summary>UpDownCounter: measurements are added; shown as gauge.</summary>
    UpDownSum,

    /// <summary>Gauge, ObservableGauge, ObservableUpDownCounter: the last measurement is the value; shown as gauge.</summary>
    LastValue,

    /// <summary>ObservableCounter: the measurement is the cumulative total; shown as counter.</summary>
    ObservedTotal,

    /// <summary>Histogram: bucket counts, sum and count; shown as histogram.</summary>
    Histogram,
}

/// <summary>
/// One Prometheus metric family fed by one or more instruments of the same name: its series by label set, updated
/// lock-free from whichever thread records a measurement (the server's never wait for a scrape), read by any
/// number of concurrent scrapes.
/// </summary>
internal sealed class MetricFamily(string name, string help, FamilyKind kind, double factor, double[] buckets)
{
    private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
    private Series? _unlabelled;

    public string Name { get; } = name;

    public FamilyKind Kind { get; } = kind;

    /// <summary>Applies one measurement (in the instrument's unit) with its tags.</summary>
    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = tags.IsEmpty ? (_unlabelled ??= _series.GetOrAdd("", _ => NewSeries())) : _series.GetOrAdd(LabelKey(tags), _ => NewSeries());
        double converted = value * factor;
        switch (Kind)
        {
            case FamilyKind.Histogram:
                // Bounds are inclusive upper limits: an exact match belongs to that bucket, otherwise the first larger one.
                int index = Array.BinarySearch(buckets, converted);
                Interlocked.Increment(ref series.Buckets[index < 0 ? ~index : index]);
                series.Add(converted);
                break;
            case FamilyKind.LastValue or FamilyKind.ObservedTotal:
                series.Set(converted);
                break;
            default:
                series.Add(converted);
                break;
        }
    }

    private Series NewSeries() => Kind == FamilyKind.Histogram ? new Series(buckets.Length + 1) : new Series(0);

    /// <summary>The label set in exposition form, sorted by name so that the same tags in any order are one series.</summary>
    private static string LabelKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = tags.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder();
        foreach (var tag in sorted)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(PrometheusText.LabelName(tag.Key)).Append("=\"");
            PrometheusText.AppendLabelValue(text, Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
            text.Append('"');
        }

        return text.ToString();
    }

    /// <summary>Appends HELP, TYPE and every series; nothing when no measurement was recorded yet.</summary>
    public void WriteTo(StringBuilder text)
    {
        if (_series.IsEmpty)
        {
            return;
        }

        string type = Kind switch
        {
            FamilyKind.Sum or FamilyKind.ObservedTotal => "counter",
            FamilyKind.Histogram => "histogram",
            _ => "gauge",
        };
        text.Append("# HELP ").Append(Name).Append(' ');
        PrometheusText.AppendHelp(text, help);
        text.Append('\n').Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, series) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (Kind == FamilyKind.Histogram)
            {
                WriteHistogram(text, labels, series);
            }
            else
            {
                Sample(text, Name, labels, null, series.Value);
            }
        }
    }

    private void WriteHistogram(StringBuilder text, string labels, Series series)
    {
        // The buckets are read one by one while measurements may land: the count shown is the sum of the buckets
        // read, so +Inf always equals _count and the buckets are cumulative, whatever races with the scrape.
        long cumulative = 0;
        for (int i = 0; i <= buckets.Length; i++)
        {
            cumulative += Volatile.Read(ref series.Buckets[i]);
            string le = i < buckets.Length ? PrometheusText.Number(buckets[i]) : "+Inf";
            Sample(text, Name + "_bucket", labels, le, cumulative);
        }

        Sample(text, Name + "_sum", labels, null, series.Value);
        Sample(text, Name + "_count", labels, null, cumulative);
    }

    private static void Sample(StringBuilder text, string name, string labels, string? le, double value)
    {
        text.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            text.Append('{').Append(labels);
            if (le is not null)
            {
                text.Append(labels.Length > 0 ? ",le=\"" : "le=\"").Append(le).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(PrometheusText.Number(value)).Append('\n');
    }

    /// <summary>One label set's state: a value (sum, last value or histogram sum) and, for histograms, bucket counts.</summary>
    private sealed class Series(int bucketCount)
    {
        private double _value;

        /// <summary>Per-bucket (not cumulative) counts; the last one is above every bound.</summary>
        public long[] Buckets { get; } = new long[bucketCount];

        public double Value => Volatile.Read(ref _value);

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Add(double value)
        {
            double seen = Volatile.Read(ref _value);
            while (true)
            {
                double was = Interlocked.CompareExchange(ref _value, seen + value, seen);
                if (BitConverter.DoubleToInt64Bits(was) == BitConverter.DoubleToInt64Bits(seen))
                {
                    return;
                }

                seen = was;
            }
        }
    }
}
