import HeraldCore
import HeraldQueueKafka
import Testing

@Suite("Kafka configuration")
struct KafkaConfigurationTests {
    @Test("defaults follow goim's topic and group, acks=all with an idempotent producer")
    func defaults() throws {
        let c = try KafkaConfiguration(ConfigTable())
        #expect(c.topic == "goim-push-topic")
        #expect(c.group == "goim-push-group-job")
        #expect(c.producerProperties["acks"] == "-1")
        #expect(c.producerProperties["enable.idempotence"] == "true")
        #expect(c.producerProperties["partitioner"] == "fnv1a_random")
        #expect(c.consumerProperties["enable.auto.offset.store"] == "false")
        #expect(c.consumerProperties["partition.assignment.strategy"] == "range,roundrobin")
    }

    @Test("named keys, security pass-through and the property escape hatch")
    func properties() throws {
        let table = try ConfigLoader.parse(
            """
            brokers = ["a:9092", "b:9092,c:9092"]
            acks = "1"
            idempotent = false
            compression = "lz4"
            linger = "20ms"
            security_protocol = "sasl_ssl"
            sasl_mechanism = "PLAIN"
            sasl_username = "u"
            [properties]
            "socket.keepalive.enable" = true
            [consumer_properties]
            "fetch.wait.max.ms" = 50
            """
        )
        let c = try KafkaConfiguration(table)
        #expect(c.brokers == ["a:9092", "b:9092", "c:9092"])
        #expect(c.producerProperties["acks"] == "1")
        #expect(c.producerProperties["compression.codec"] == "lz4")
        #expect(c.producerProperties["linger.ms"] == "20")
        #expect(c.producerProperties["sasl.username"] == "u")
        #expect(c.consumerProperties["security.protocol"] == "sasl_ssl")
        #expect(c.producerProperties["socket.keepalive.enable"] == "true")
        #expect(c.consumerProperties["fetch.wait.max.ms"] == "50")
        #expect(c.producerProperties["fetch.wait.max.ms"] == nil)
    }

    @Test("refuses cooperative-sticky, idempotence without acks=all, and unknown choices, naming the key")
    func refusals() throws {
        for (text, key) in [
            ("assignment = \"cooperative-sticky\"", "assignment"),
            ("acks = \"1\"\nidempotent = true", "idempotent"),
            ("compression = \"brotli\"", "compression"),
        ] {
            let table = try ConfigLoader.parse(text)
            #expect(throws: ConfigError.self) { try KafkaConfiguration(table) }
            do { _ = try KafkaConfiguration(table) } catch { #expect(error.key.hasSuffix(key)) }
        }
    }
}
