using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace TcpTalk.Admin;

/// <summary>
/// Listens to the instruments of the chosen meters (a <see cref="MeterListener"/>, the way dotnet-counters does)
/// and keeps their aggregates as Prometheus families, from the moment it is created until it is disposed.
/// Recording is lock-free; only the polling of observable instruments during a scrape is serialized.
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, MetricFamily> _families = new(StringComparer.Ordinal);
    private readonly Lock _observing = new();

    public MetricsCollector(Func<Meter, bool> meterFilter)
    {
        ArgumentNullException.ThrowIfNull(meterFilter);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (meterFilter(instrument.Meter) && FamilyFor(instrument) is { } family)
            {
                listener.EnableMeasurementEvents(instrument, family);
            }
        };
        _listener.SetMeasurementEventCallback<byte>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, v, tags, state) => ((MetricFamily)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, v, tags, state) => ((MetricFamily)state!).Record((double)v, tags));
        _listener.Start();
    }

    /// <summary>The family an instrument feeds (created on first sight; instruments of the same name share it), or null for an unknown kind.</summary>
    private MetricFamily? FamilyFor(Instrument instrument)
    {
        FamilyKind? kind = instrument.GetType() is { IsGenericType: true } type ? type.GetGenericTypeDefinition() switch
        {
            var t when t == typeof(Counter<>) => FamilyKind.Sum,
            var t when t == typeof(UpDownCounter<>) => FamilyKind.UpDownSum,
            var t when t == typeof(Histogram<>) => FamilyKind.Histogram,
            var t when t == typeof(Gauge<>) => FamilyKind.LastValue,
            var t when t == typeof(ObservableGauge<>) => FamilyKind.LastValue,
            var t when t == typeof(ObservableUpDownCounter<>) => FamilyKind.LastValue,
            var t when t == typeof(ObservableCounter<>) => FamilyKind.ObservedTotal,
            _ => null,
        } : null;
        if (kind is not { } known)
        {
            return null;
        }

        var unit = PrometheusUnit.From(instrument.Unit);
        bool counter = known is FamilyKind.Sum or FamilyKind.ObservedTotal;
        string name = unit.FamilyName(instrument.Name, counter);
        var family = _families.GetOrAdd(name, n => new MetricFamily(
            n, instrument.Description ?? instrument.Name, known, unit.Factor, known == FamilyKind.Histogram ? unit.DefaultBuckets() : []));
        return family.Kind == known ? family : null; // a clash of kinds under one name: the first one wins
    }

    /// <summary>Appends every family with at least one series, sorted by name.</summary>
    public void WriteTo(StringBuilder text)
    {
        lock (_observing)
        {
            _listener.RecordObservableInstruments();
        }

        foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            family.WriteTo(text);
        }
    }

    public void Dispose() => _listener.Dispose();
}
