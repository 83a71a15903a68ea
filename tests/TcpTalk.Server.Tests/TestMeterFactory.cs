using System.Diagnostics.Metrics;

namespace TcpTalk.Server.Tests;

/// <summary>Makes the meters of one server under test, so a listener can observe that server alone.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    public List<Meter> Created { get; } = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        lock (Created)
        {
            Created.Add(meter);
        }

        return meter;
    }

    public void Dispose() => Created.ForEach(m => m.Dispose());
}
