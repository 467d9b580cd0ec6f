using DeepSeekMesh.Contracts.Placement;

namespace DeepSeekMesh.Contracts.Tests;

public class ExpertPlannerTests
{
    static readonly int[] Layers = [1, 2, 3];
    const int Experts = 16;
    readonly ExpertPlanner _planner = new();

    static PlannedSilo[] Silos(int count, int? capacity = null) =>
        Enumerable.Range(0, count).Select(i => new PlannedSilo($"S{i}", capacity)).ToArray();

    ExpertPlacementPlan Plan(IReadOnlyList<PlannedSilo> silos, ExpertPlacementPlan? previous = null, IReadOnlyDictionary<int, long[]>? load = null) =>
        _planner.Plan(Layers, Experts, silos, load, previous, (previous?.Version ?? 0) + 1);

    /// <summary>Expected rows per silo in one layer: each expert's load split evenly between its replicas.</summary>
    static Dictionary<string, double> RowsPerSilo(ExpertPlacementPlan plan, int layer, long[] load)
    {
        var rows = plan.Silos.ToDictionary(s => s, _ => 0.0);
        for (int e = 0; e < plan.ExpertsPerLayer; e++)
        {
            var replicas = plan.ReplicasOf(layer, e);
            foreach (var slot in replicas) rows[plan.Silos[slot]] += (double)load[e] / replicas.Length;
        }
        return rows;
    }

    [Fact]
    public void One_silo_hosts_every_expert_once()
    {
        var plan = Plan(Silos(1));
        Assert.True(plan.IsComplete);
        Assert.Equal(Layers.Length * Experts, plan.On("S0").Count());
        Assert.All(plan.Replicas, r => Assert.Single(r));
    }

    [Fact]
    public void No_silo_places_nothing()
    {
        var plan = Plan([]);
        Assert.False(plan.IsComplete);
        Assert.Empty(plan.ReplicasOf(1, 0));
        Assert.Null(plan.SiloOf(1, 0, 0));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(3, 4)]
    [InlineData(1, 3)]
    public void A_join_moves_about_its_share_and_balances(int before, int after)
    {
        var first = Plan(Silos(before));
        var second = Plan(Silos(after), first);
        int total = Layers.Length * Experts;
        int moves = ExpertPlacementPlan.Moves(first, second);
        // the new silos' fair share, within one expert per layer and silo of rounding
        double share = total * (after - before) / (double)after;
        Assert.InRange(moves, share - Layers.Length * after, share + Layers.Length * after);
        foreach (var layer in Layers)
        {
            var counts = second.Silos.Select(s => second.On(s).Count(r => r.Layer == layer)).ToArray();
            Assert.InRange(counts.Max() - counts.Min(), 0, 2);
        }
        // nothing moved between the silos that were there already
        foreach (var (replica, silo) in second.All())
            if (first.SiloOf(replica.Layer, replica.Expert, replica.Replica) is { } old && old != silo)
                Assert.DoesNotContain(silo, first.Silos);
    }

    [Fact]
    public void A_leave_moves_only_that_silos_experts()
    {
        var three = Plan(Silos(3));
        var hostedByLeaver = three.On("S1").Count();
        var two = Plan(Silos(3).Where(s => s.Address != "S1").ToArray(), three);
        Assert.Equal(hostedByLeaver, ExpertPlacementPlan.Moves(three, two));
        Assert.True(two.IsComplete);
        Assert.Empty(two.On("S1"));
    }

    [Fact]
    public void A_draining_silo_is_emptied_and_the_others_keep_theirs()
    {
        var three = Plan(Silos(3));
        var silos = Silos(3);
        silos[2] = silos[2] with { Draining = true };
        var drained = Plan(silos, three);
        Assert.Empty(drained.On("S2"));
        Assert.DoesNotContain("S2", drained.Silos);
        Assert.Equal(three.On("S2").Count(), ExpertPlacementPlan.Moves(three, drained));
    }

    [Fact]
    public void Every_silo_draining_keeps_serving_where_it_is()
    {
        var two = Plan(Silos(2));
        var drained = Plan(Silos(2).Select(s => s with { Draining = true }).ToArray(), two);
        Assert.True(drained.IsComplete);
        Assert.Equal(0, ExpertPlacementPlan.Moves(two, drained));
    }

    [Fact]
    public void Same_inputs_same_plan_no_moves()
    {
        var load = Layers.ToDictionary(l => l, l => Enumerable.Range(0, Experts).Select(e => (long)(e * 7 % 5 + 10)).ToArray());
        var first = Plan(Silos(3), load: load);
        var again = Plan(Silos(3), first, load);
        Assert.True(first.SamePlacement(again));
        Assert.Equal(0, ExpertPlacementPlan.Moves(first, again));
    }

    [Fact]
    public void Capacity_is_respected_and_the_rest_goes_elsewhere()
    {
        var silos = new[] { new PlannedSilo("A", Capacity: 5), new PlannedSilo("B"), new PlannedSilo("C") };
        var plan = Plan(silos);
        Assert.True(plan.IsComplete);
        Assert.InRange(plan.On("A").Count(), 1, 5);
    }

    [Fact]
    public void Uneven_load_is_balanced_by_rows_not_by_count()
    {
        // half the experts carry 3x the rows of the other half (not hot: below 2x the mean)
        var load = Layers.ToDictionary(l => l, l => Enumerable.Range(0, Experts).Select(e => e < Experts / 2 ? 300L : 100L).ToArray());
        var plan = Plan(Silos(4), Plan(Silos(4)), load);
        foreach (var layer in Layers)
        {
            var rows = RowsPerSilo(plan, layer, load[layer]);
            Assert.True(rows.Values.Max() <= 1.15 * rows.Values.Average(), string.Join(", ", rows.Values));
        }
    }

    [Fact]
    public void Hot_experts_get_replicas_and_the_busiest_silo_stays_within_a_quarter_of_the_mean()
    {
        // experts 3 and 11 of every layer take nearly all rows: each token's top-2 is them
        var load = Layers.ToDictionary(l => l, l => Enumerable.Range(0, Experts).Select(e => e is 3 or 11 ? 10_000L : 5L).ToArray());
        var plain = Plan(Silos(3));
        var plan = Plan(Silos(3), plain, load);
        foreach (var layer in Layers)
        {
            Assert.True(plan.ReplicasOf(layer, 3).Length > 1);
            Assert.True(plan.ReplicasOf(layer, 11).Length > 1);
            Assert.Single(plan.ReplicasOf(layer, 0));
            Assert.Equal(plan.ReplicasOf(layer, 3).Length, plan.ReplicasOf(layer, 3).Distinct().Count()); // replicas on distinct silos
            var rows = RowsPerSilo(plan, layer, load[layer]);
            Assert.True(rows.Values.Max() <= 1.25 * rows.Values.Average(), string.Join(", ", rows.Values));
            // without replicas the busiest silo carries at least half of the layer's rows
            var before = RowsPerSilo(plain, layer, load[layer]);
            Assert.True(before.Values.Max() >= 1.4 * before.Values.Average());
        }
    }

    [Fact]
    public void A_few_tokens_of_traffic_move_nothing()
    {
        // 33 decode steps at batch 1, top-8 of 16: a handful of rows per expert, mostly noise
        var random = new Random(3);
        var noise = Layers.ToDictionary(l => l, l => Enumerable.Range(0, Experts).Select(_ => (long)random.Next(0, 12)).ToArray());
        var first = Plan(Silos(3));
        var again = Plan(Silos(3), first, noise);
        Assert.Equal(0, ExpertPlacementPlan.Moves(first, again));
    }

    [Fact]
    public void Replicas_are_dropped_when_the_load_cools()
    {
        var hot = Layers.ToDictionary(l => l, l => Enumerable.Range(0, Experts).Select(e => e == 3 ? 10_000L : 5L).ToArray());
        var replicated = Plan(Silos(3), null, hot);
        Assert.True(replicated.ReplicasOf(1, 3).Length > 1);
        var cool = Plan(Silos(3), replicated, null);
        Assert.Single(cool.ReplicasOf(1, 3));
        Assert.Equal(replicated.SiloOf(1, 3, 0), cool.SiloOf(1, 3, 0));
    }
}
