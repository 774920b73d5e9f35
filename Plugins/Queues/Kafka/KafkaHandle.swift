import CRdKafka
import HeraldCore
import Logging

/// The Swift side of one librdkafka client: what its C callbacks reach through the opaque pointer.
/// librdkafka calls these on the thread that polls the handle (never an event loop).
final class KafkaCallbacks: @unchecked Sendable {
    let logger: Logger
    /// librdkafka repeats connection errors while a broker is away; one line per second per facility is enough.
    let logLimiter = RateLimitedLog(interval: .seconds(1))
    /// Delivery report of one produced message (producer handles).
    var onDelivery: ((UnsafePointer<rd_kafka_message_t>) -> Void)?
    /// Partition assignment or revocation (consumer handles).
    var onRebalance: ((OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?

    init(logger: Logger) { self.logger = logger }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> KafkaCallbacks? {
        opaque.map { Unmanaged<KafkaCallbacks>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// One librdkafka client handle (`rd_kafka_t`), created from a property map, with its log routed
/// to swift-log and its callbacks to a ``KafkaCallbacks``.
final class KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let callbacks: KafkaCallbacks

    init(kind: rd_kafka_type_t, properties: [String: String], callbacks: KafkaCallbacks) throws(QueueError) {
        let conf = rd_kafka_conf_new()
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw QueueError("kafka property \(name)=\(value): \(Self.text(errorText))")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, text in
            guard let handle, let callbacks = KafkaCallbacks.from(rd_kafka_opaque(handle)) else { return }
            let message = text.map { String(cString: $0) } ?? ""
            let facility = facility.map { String(cString: $0) } ?? ""
            // syslog levels: 0–3 error, 4 warning, 5–6 info, 7 debug.
            let swiftLevel: Logger.Level = level <= 3 ? .error : level == 4 ? .warning : level <= 6 ? .info : .debug
            guard swiftLevel >= callbacks.logger.logLevel, callbacks.logLimiter.shouldLog(facility) else { return }
            callbacks.logger.log(level: swiftLevel, "librdkafka: \(message)", metadata: ["kafka.facility": "\(facility)"])
        }
        if callbacks.onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let message, let callbacks = KafkaCallbacks.from(opaque) else { return }
                callbacks.onDelivery?(message)
            }
        }
        if callbacks.onRebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { handle, error, partitions, opaque in
                guard let handle, let partitions, let callbacks = KafkaCallbacks.from(opaque) else { return }
                callbacks.onRebalance?(handle, error, partitions)
            }
        }
        guard let handle = rd_kafka_new(kind, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw QueueError("kafka client could not start: \(Self.text(errorText))")
        }
        pointer = handle
        self.callbacks = callbacks
    }

    /// A C error buffer as a string.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// librdkafka's text for an error code.
    static func describe(_ error: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(error))
    }
}
