-- root: packages
SELECT * FROM usb_devices;
SELECT usb_address, usb_port, vendor_id, model_id FROM usb_devices WHERE vendor_id = '046d';
